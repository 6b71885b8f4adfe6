"""A SQLite query read into Arrow by ADBC's SQLite driver, in a process of its own.

:func:`techreform.warehouse.read_committed_frame` runs this module (``python -m techreform.sqlite_arrow``)
to read a national month's staged rows column by column in C instead of as Python tuples. ADBC's driver
carries a SQLite library of its own; two SQLite libraries in one process do not see each other's POSIX
locks, and a connection of one closing drops the other's (SQLite's "How To Corrupt An SQLite Database
File", 2.2.1; a read here was stale). In a process of its own it is one more reader of the database, as
any other process is.

The request comes on standard input as JSON (``database``: the file; ``statement``: one ``select`` with
``?`` parameters; ``parameters``; ``busy_timeout_ms``: how long to wait for a lock, the warehouse's
:data:`~techreform.warehouse.SQLITE_BUSY_TIMEOUT_SECONDS`); the rows go to standard output as one Arrow
IPC stream. The driver types a column from its first batch and refuses another type in a later one, so
every row is read as one batch: nulls and floats give floats, and text among numbers gives text with the
numbers written out — which the caller checks against the columns' declared types. Nothing is written to
the database.

Only the standard library, pyarrow and the driver are imported: the process starts in a fraction of a
second."""

from __future__ import annotations

import json
import sys

ONE_BATCH_ROWS = 2**30
"""Rows per batch of the driver: every row in one batch (the largest value it takes is below 2³¹ − 1)."""


def read(database: str, statement: str, parameters: list, busy_timeout_ms: int) -> object:
    """The rows of ``statement`` on the SQLite file ``database`` as a pyarrow Table, waiting up to
    ``busy_timeout_ms`` for a lock. Through the driver manager's own objects, not its DB-API module, which
    imports pandas and pyarrow's datasets (0.7 s)."""
    from contextlib import closing

    import adbc_driver_manager
    import adbc_driver_sqlite
    import pyarrow as pa

    with (
        closing(adbc_driver_sqlite.connect(database)) as opened,
        closing(adbc_driver_manager.AdbcConnection(opened)) as connection,
    ):
        with closing(adbc_driver_manager.AdbcStatement(connection)) as setting:
            setting.set_sql_query(f"pragma busy_timeout = {int(busy_timeout_ms)}")
            setting.execute_update()
        with closing(adbc_driver_manager.AdbcStatement(connection)) as query:
            query.set_options(**{"adbc.sqlite.query.batch_rows": str(ONE_BATCH_ROWS)})
            query.set_sql_query(statement)
            if parameters:  # one row of bound values, one column each
                names = [f"p{i}" for i in range(len(parameters))]
                query.bind(pa.record_batch([pa.array([value]) for value in parameters], names=names))
            stream, _ = query.execute_query()
            return pa.RecordBatchReader._import_from_c(stream.address).read_all()


def main() -> int:
    import pyarrow as pa

    request = json.load(sys.stdin)
    table = read(request["database"], request["statement"], request["parameters"], request["busy_timeout_ms"])
    with pa.ipc.new_stream(sys.stdout.buffer, table.schema) as writer:
        writer.write_table(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
