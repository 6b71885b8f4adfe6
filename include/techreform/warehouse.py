"""The warehouse: engines, SQL files, and per-period transactional writes.

The same code and SQL run on SQLite (embedded default) and PostgreSQL (production). SQL lives in
``include/sql/``; a file ``name.sql`` may have dialect variants ``name.postgresql.sql`` and
``name.sqlite.sql`` side by side, and the variant of the engine's dialect wins."""

from __future__ import annotations

import json
import logging
import os
import re
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from techreform.config import SQL_DIR
from techreform.memory import cycle_collection_paused

_ENGINES: dict[str, Engine] = {}
_log = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_SECONDS = 60
"""How long a SQLite connection of the warehouse waits for another's lock before it fails (the engine's
connections, and the reading process of :func:`read_committed_frame`)."""

ADDED_COLUMNS: dict[str, dict[str, str]] = {
    "sup_email_log": {"claim_owner": "text", "claim_host": "text", "claim_pid": "integer", "claim_until": "text"},
    "fct_indicator": {"data_period": "text"},
}
"""Columns added to a table after its ``create table`` first shipped (they are in the DDL too): a
warehouse created before gets them from :func:`create_schema` (``alter table … add column``)."""


def engine_for(url: str) -> Engine:
    """One engine per URL and process. SQLite gets WAL (synchronous=normal), a 64 MiB page cache and a busy
    timeout; PostgreSQL sessions are named ``techreform`` and run without JIT compilation."""
    if url not in _ENGINES:
        if url.startswith("sqlite"):
            path = url.split("///", 1)[-1]
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            engine = sa.create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS})

            @sa.event.listens_for(engine, "connect")
            def _sqlite_pragmas(dbapi_connection, _record):  # pragma: no cover - trivial
                cursor = dbapi_connection.cursor()
                cursor.execute("pragma journal_mode=wal")
                cursor.execute("pragma synchronous=normal")
                # a 64 MiB page cache (default 2 MiB): bulk loads into indexed tables and the marts'
                # group-bys stay in memory; durability is unchanged (docs/performance.md)
                cursor.execute("pragma cache_size=-65536")
                cursor.close()
        else:
            # the application name lets an operator (and the fault suite) tell the pipeline's sessions apart
            engine = sa.create_engine(url, pool_pre_ping=True, connect_args={"application_name": "techreform"})

            @sa.event.listens_for(engine, "connect")
            def _postgresql_settings(dbapi_connection, _record):
                # no JIT compilation: the marts' queries run for seconds, and compiling the expressions of
                # the wide ones (e1_ratios.sql's 60 sums) took 2 of their 6 s (docs/performance.md); a
                # plain SET, which a connection pooler passes on, unlike a startup option
                with dbapi_connection.cursor() as cursor:
                    cursor.execute("set jit = off")
                dbapi_connection.commit()

        _ENGINES[url] = engine
    return _ENGINES[url]


def in_memory(warehouse_url: str | sa.URL) -> bool:
    """Whether ``warehouse_url`` is a SQLite database in memory (``sqlite://``, ``sqlite:///:memory:``),
    which only the process (and the connection) that opened it sees."""
    url = sa.engine.make_url(warehouse_url)
    return url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")


def dispose_engines() -> None:
    """Close every connection of this process's engines, and its ADBC connections (:func:`read_committed_frame`)."""
    for engine in _ENGINES.values():
        engine.dispose()
    _ENGINES.clear()
    with _ARROW_CONNECTIONS_LOCK:
        for (pid, uri), connection in list(_ARROW_CONNECTIONS.items()):
            if pid == os.getpid():  # a forked parent's connection is the parent's to close
                connection.close()
            del _ARROW_CONNECTIONS[(pid, uri)]


@cache
def _read_sql(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def sql_path(name: str, dialect: str) -> Path:
    """The file for ``name`` (e.g. ``"staging/files/staged_rows"``), preferring the dialect's variant."""
    base = SQL_DIR / name
    for candidate in (base.with_name(f"{base.name}.{dialect}.sql"), base.with_name(f"{base.name}.sql")):
        if candidate.exists():
            return candidate
    raise FileNotFoundError(f"no SQL file {name}.sql (or .{dialect}.sql) under {SQL_DIR}")


_TABLE_SLOT = re.compile(r"\{\{\s*(\w+)\s*\}\}")
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")


def sql_text(name: str, dialect: str, tables: Mapping[str, str | Sequence[str]] | None = None) -> str:
    """The text of a SQL file. A file written for several tables of one shape (the staging table of a
    form) names the table as a slot, ``{{ staging_table }}``, filled from ``tables`` with a plain lower-case
    identifier the code chose (never a value: values are always bound). A slot may also stand for a list
    of columns (``{{ columns }}``): a sequence of such identifiers, filled in comma-separated."""
    text = _read_sql(sql_path(name, dialect))
    if "{{" not in text:
        return text

    def fill(match: re.Match) -> str:
        given = (tables or {}).get(match.group(1))
        names = [given] if isinstance(given, str) else list(given or [])
        if not names or not all(isinstance(n, str) and _IDENTIFIER.match(n) for n in names):
            raise ValueError(
                f"{name}.sql needs a plain table or column name for {{{{ {match.group(1)} }}}}, got {given!r}"
            )
        return ", ".join(names)

    return _TABLE_SLOT.sub(fill, text)


def split_statements(script: str) -> list[str]:
    """Split a script of DDL on ``;`` at line ends (our DDL keeps no ``;`` inside literals)."""
    without_comments = re.sub(r"--[^\n]*", "", script)
    return [s.strip() for s in without_comments.split(";") if s.strip()]


def run_script(conn: Connection, name: str, *, tables: Mapping[str, str | Sequence[str]] | None = None) -> None:
    """Run every statement of a SQL file (DDL; ``tables`` fills its table slots, see :func:`sql_text`)."""
    for statement in split_statements(sql_text(name, conn.dialect.name, tables)):
        conn.exec_driver_sql(statement)


def query(
    conn: Connection, name: str, *, tables: Mapping[str, str | Sequence[str]] | None = None, **params: Any
) -> sa.CursorResult:
    """Run the single statement of ``include/sql/<name>.sql`` with bound parameters (``tables`` fills its
    table slots, see :func:`sql_text`)."""
    return conn.execute(sa.text(sql_text(name, conn.dialect.name, tables)), params)


IN_LIST_CHUNK = 500
"""Values per expanding ``in`` list of :func:`query_in` (SQLite limits bound parameters per statement)."""


def query_in(conn: Connection, name: str, codes: Sequence[str], **params: Any) -> list[sa.Row]:
    """Run ``include/sql/<name>.sql`` whose ``:codes`` is an expanding list, in chunks of
    :data:`IN_LIST_CHUNK` codes; the rows of every chunk, chunk after chunk (a statement that returns
    no rows, a ``delete``, is run on each chunk and gives ``[]``)."""
    rows: list[sa.Row] = []
    for result in _results_in(conn, name, codes, params):
        if result.returns_rows:
            rows.extend(result.fetchall())
    return rows


def _results_in(
    conn: Connection, name: str, codes: Sequence[str], params: Mapping[str, Any], *, at_least_once: bool = False
) -> Iterator[sa.CursorResult]:
    """The results of ``include/sql/<name>.sql``, whose ``:codes`` is an expanding list, run on
    :data:`IN_LIST_CHUNK` codes at a time, each executed when it is asked for; with no codes, nothing is
    run unless ``at_least_once`` (then once, on the empty list: for the query's columns). The codes are
    text: an empty list is rendered as an empty set of text, which PostgreSQL compares with a text column
    (untyped, SQLAlchemy renders it as integers, and ``text = integer`` is refused)."""
    statement = sa.text(sql_text(name, conn.dialect.name)).bindparams(
        sa.bindparam("codes", expanding=True, type_=sa.String())
    )
    codes = list(codes)
    for start in range(0, max(len(codes), int(at_least_once)), IN_LIST_CHUNK):
        yield conn.execute(statement, {"codes": codes[start : start + IN_LIST_CHUNK], **params})


def execute(conn: Connection, name: str, params: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None) -> None:
    conn.execute(sa.text(sql_text(name, conn.dialect.name)), params or {})


def insert_rows(
    conn: Connection, table: str, rows: Sequence[Mapping[str, Any]] | Any, columns: Iterable[str] | None = None
) -> int:
    """Insert ``rows`` into ``table`` in one bulk load on the connection's transaction: ``rows`` are dicts
    (a missing key is null) or a pandas DataFrame (its columns, or ``columns`` of it; missing values are
    null; loaded by slices of :data:`INSERT_CHUNK_ROWS`, see :func:`insert_columns`). PostgreSQL gets
    ``COPY … FROM STDIN`` (psycopg 3), SQLite one prepared statement executed over the rows
    (``executemany``); database errors come back as SQLAlchemy's (``IntegrityError`` …), as from
    ``conn.execute``."""
    if _is_frame(rows):
        names = list(columns) if columns is not None else [str(c) for c in rows.columns]
        if not len(rows):
            return 0
        for start in range(0, len(rows), INSERT_CHUNK_ROWS):  # one slice's values at a time
            piece = rows.iloc[start : start + INSERT_CHUNK_ROWS]
            insert_columns(conn, table, names, [piece[name] for name in names])
        return len(rows)
    else:
        if not rows:
            return 0
        names = list(columns) if columns is not None else list(rows[0].keys())
        return insert_tuples(conn, table, names, [tuple(map(r.get, names)) for r in rows])  # no generator per row


def insert_tuples(conn: Connection, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> int:
    """Insert ``rows``, tuples of values in the order of ``columns``, into ``table`` in one bulk load on
    the connection's transaction (``COPY`` on PostgreSQL, one ``executemany`` on SQLite): what
    :func:`insert_rows` loads its dicts with."""
    if not rows:
        return 0
    _bulk_insert(conn, table, list(columns), rows)
    return len(rows)


def insert_columns(conn: Connection, table: str, names: Sequence[str], columns: Sequence[Any]) -> int:
    """Insert rows given column by column — each of ``columns`` a list of Python values or a pandas
    Series (missing values are null), all of one length — into ``table``, as :func:`insert_tuples` would
    insert their rows.

    On PostgreSQL the columns go to ``COPY … (format csv)`` as CSV written by pyarrow (C++), with no
    Python value per cell, when each converts exactly (:func:`_copy_array`: text to a text column,
    whole numbers to an integer one, finite numbers to a double precision one); otherwise, and on
    SQLite, their rows go as tuples (docs/performance.md)."""
    names = list(names)
    count = len(columns[0]) if len(columns) else 0
    if not count:
        return 0
    if conn.dialect.name == "postgresql":
        _check_identifiers(table, names)
        kinds = _column_kinds(conn, table)
        arrays = [_copy_array(values, kinds.get(name, "")) for name, values in zip(names, columns)]
        if all(array is not None for array in arrays):
            _copy_csv(conn, table, names, arrays)
            return count
    with cycle_collection_paused():  # tuples of scalars: no cycles (techreform.memory)
        tuples = list(zip(*(_python_values(values) for values in columns)))
    _bulk_insert(conn, table, names, tuples)
    return count


INSERT_CHUNK_ROWS = 50_000
"""Rows of a DataFrame turned into Python values and loaded at a time by :func:`insert_rows`."""


def _is_frame(rows: Any) -> bool:
    return hasattr(rows, "columns") and hasattr(rows, "dtypes")


def _python_values(values: Any) -> list[Any]:
    """A column as Python scalars: a list as it is, a pandas Series with ``None`` for a missing value."""
    if isinstance(values, list):
        return values
    return values.astype(object).where(values.notna(), None).tolist()


def _copy_array(values: Any, kind: str) -> Any:
    """``values`` (a list or a Series) as a pyarrow array whose CSV text PostgreSQL reads as the value
    :func:`_bulk_insert` would store in a column of ``kind`` (:func:`_column_kinds`), or ``None`` when it
    cannot say so:

    - a column of nulls, for any column;
    - text for a text column (pyarrow quotes every text, so ``""`` stays apart from null);
    - whole numbers for an integer column, or finite floats rounded half to even (:func:`_as_integer`),
      or booleans as 0 and 1;
    - whole numbers or finite floats for a double precision column (pyarrow writes the shortest
      decimal that reads back as the same double, as Python's ``repr``);

    anything else (a mixed list, dates, NaN or infinity, text for a number column …) is left to the
    tuples. A Series' missing values are nulls (NaN too, as :func:`_python_values` gives them)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        array = pa.array(values, from_pandas=not isinstance(values, list))
        if pa.types.is_dictionary(array.type):  # a pandas category
            array = array.dictionary_decode()
        kind_of = array.type
        if pa.types.is_null(kind_of):
            return array
        if pa.types.is_floating(kind_of) and pc.all(pc.is_finite(array)).as_py() is False:
            return None  # NaN or infinity: the rows say it as psycopg does
        if kind == "text":
            return array if pa.types.is_string(kind_of) or pa.types.is_large_string(kind_of) else None
        if kind == "integer":
            if pa.types.is_integer(kind_of):
                return array
            if pa.types.is_boolean(kind_of):
                return array.cast(pa.int64())
            if pa.types.is_floating(kind_of):
                return pc.round(array, round_mode="half_to_even").cast(pa.int64())
            return None
        if kind == "float" and (pa.types.is_integer(kind_of) or pa.types.is_floating(kind_of)):
            return array
        return None
    except (pa.ArrowException, TypeError, ValueError, OverflowError):
        return None


def _copy_csv(conn: Connection, table: str, names: Sequence[str], arrays: Sequence[Any]) -> None:
    """``COPY table (names) FROM STDIN (format csv)`` of ``arrays`` as pyarrow writes them."""
    import pyarrow as pa
    import pyarrow.csv as pa_csv

    sink = pa.BufferOutputStream()
    pieces = pa.Table.from_arrays(list(arrays), names=[f"c{i}" for i in range(len(arrays))])
    pa_csv.write_csv(pieces, sink, pa_csv.WriteOptions(include_header=False))
    del pieces
    statement = f"copy {table} ({', '.join(names)}) from stdin (format csv)"
    try:
        with conn.connection.driver_connection.cursor() as cursor, cursor.copy(statement) as copy:
            copy.write(memoryview(sink.getvalue()))
    except conn.dialect.loaded_dbapi.Error as exc:
        raise sa.exc.DBAPIError.instance(statement, None, exc, conn.dialect.loaded_dbapi.Error) from exc


_COLUMN_KIND_OF_TYPE = {
    "smallint": "integer",
    "integer": "integer",
    "bigint": "integer",
    "double precision": "float",
    "real": "float",
    "text": "text",
}


def _column_kinds(conn: Connection, table: str) -> dict[str, str]:
    """Each column of ``table`` by the kind of its declared type: ``integer``, ``float``, ``text``, or ``other``.
    COPY reads ``5.0`` as no integer, so values for an integer column are given as integers, rounded as
    PostgreSQL's own float-to-integer cast rounds (half to even), as an ``insert`` of the same value
    would store them; :func:`_copy_array` takes a column's kind to write it as CSV, and
    :func:`read_committed_frame` checks the columns ADBC's driver read against it."""
    key = (str(conn.engine.url), table)  # by database, not by engine object (an id is reused once freed)
    if key not in _COLUMN_KINDS:
        if conn.dialect.name == "postgresql":
            rows = conn.exec_driver_sql(
                "select column_name, data_type from information_schema.columns "
                "where table_name = %(table)s and table_schema = current_schema()",
                {"table": table},
            ).fetchall()
        else:  # SQLite: the declared types of the DDL (text, integer, double precision …)
            _check_identifiers(table, ())
            rows = [(row[1], row[2]) for row in conn.exec_driver_sql(f"pragma table_info({table})")]
        _COLUMN_KINDS[key] = {name: _COLUMN_KIND_OF_TYPE.get(kind.lower(), "other") for name, kind in rows}
    return _COLUMN_KINDS[key]


_COLUMN_KINDS: dict[tuple[str, str], dict[str, str]] = {}


def _as_integer(value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, float) and value == value and value not in (float("inf"), float("-inf")):
        return int(round(value))
    return value


def _check_identifiers(table: str, names: Sequence[str]) -> None:
    if not _IDENTIFIER.match(table) or not all(_IDENTIFIER.match(n) for n in names):
        raise ValueError(f"not a plain table or column name: {table} ({', '.join(names)})")


def _bulk_insert(conn: Connection, table: str, names: Sequence[str], tuples: list[tuple[Any, ...]]) -> None:
    _check_identifiers(table, names)
    dbapi = conn.connection.driver_connection
    column_list = ", ".join(names)
    if conn.dialect.name == "postgresql":
        statement = f"copy {table} ({column_list}) from stdin"
        kinds = _column_kinds(conn, table)
        integers = [i for i, n in enumerate(names) if kinds.get(n) == "integer"]
        try:
            with dbapi.cursor() as cursor, cursor.copy(statement) as copy:
                if integers:
                    for row in tuples:
                        values = list(row)
                        for i in integers:
                            values[i] = _as_integer(values[i])
                        copy.write_row(values)
                else:
                    for row in tuples:
                        copy.write_row(row)
        except conn.dialect.loaded_dbapi.Error as exc:
            raise sa.exc.DBAPIError.instance(statement, None, exc, conn.dialect.loaded_dbapi.Error) from exc
        return
    statement = f"insert into {table} ({column_list}) values ({', '.join('?' for _ in names)})"
    cursor = dbapi.cursor()
    try:
        cursor.executemany(statement, tuples)
    except conn.dialect.loaded_dbapi.Error as exc:
        raise sa.exc.DBAPIError.instance(statement, None, exc, conn.dialect.loaded_dbapi.Error) from exc
    finally:
        cursor.close()


def refresh_statistics(conn: Connection, *tables: str, changed_rows: int | None = None) -> None:
    """Let the planner see what was just loaded into ``tables``: on PostgreSQL ``ANALYZE (SKIP_LOCKED)``
    of each (a sample of some 30,000 rows; the rows ``conn``'s transaction wrote are counted, so the
    statements after it in the same transaction are planned with them); on SQLite nothing.

    Given ``changed_rows`` (the rows ``conn``'s transaction inserted, updated or deleted in each of
    ``tables``), a table is analysed only when they are enough to make its statistics stale
    (``ops/load/tables_to_analyse.postgresql.sql``): more than autovacuum's own rule allows (50 and a
    tenth of the table at the server's defaults) or :data:`ANALYSE_ROWS_AT_MOST`, or a table never
    analysed. S1's 51 rows or P1's 1,499 then do not make a million outcome rows be sampled again (0.3 s
    each, on the chain), while a month's half a million rows are analysed whatever the history holds.
    Without it every table is analysed: for rows other transactions committed (a form's staged rows).
    (The server's own count of a transaction's changes, ``pg_stat_xact_user_tables``, also counts the
    session's earlier transactions until its statistics are flushed, before PostgreSQL 16.)

    PostgreSQL plans from statistics that only ``ANALYZE`` (or autovacuum, much later) gathers; without
    them a table loaded a moment ago looks nearly empty and its 500,000 rows are joined by nested loops
    (docs/performance.md, round 13). The lock ``ANALYZE`` takes is held to the end of the transaction
    and excludes another ``ANALYZE`` of the table: ``SKIP_LOCKED`` makes a concurrent load (another form,
    another period) skip the table instead of waiting for this one to commit, so no load waits on
    another and no two can deadlock; the plan is then only as good as the last statistics. SQLite's
    planner works without statistics, and the SQL here was measured that way: an ``ANALYZE`` there would
    read the whole table and could change the plans."""
    if not tables:
        return
    _check_identifiers(tables[0], tables[1:])
    if conn.dialect.name != "postgresql":
        return
    if changed_rows is not None:
        tables = tuple(
            query(
                conn,
                "ops/load/tables_to_analyse",
                names=list(tables),
                changed_rows=changed_rows,
                rows_at_most=ANALYSE_ROWS_AT_MOST,
            ).scalars()
        )
        if not tables:
            return
    conn.exec_driver_sql(f"analyze (skip_locked) {', '.join(tables)}")


ANALYSE_ROWS_AT_MOST = 10_000
"""Rows a transaction changes in a table that have it analysed (:func:`refresh_statistics`) however large
the table: the planner misjudging fewer (joined by a nested loop, some 5 µs a row) costs less than a sample
of the table (0.3 s for a million outcome rows), and a month's rows are a period the statistics of the
history before it do not know."""


def delete_where(conn: Connection, table: str, **equals: Any) -> int:
    """``delete from table where col = :col and ...`` with bound values."""
    tbl = sa.table(table, *(sa.column(n) for n in equals))
    statement = sa.delete(tbl)
    if equals:
        statement = statement.where(sa.and_(*(tbl.c[n] == sa.bindparam(n) for n in equals)))
    return conn.execute(statement, equals).rowcount


def create_schema(engine: Engine) -> None:
    """Create every warehouse table that does not exist yet (idempotent)."""
    with engine.begin() as conn:
        for script in sorted((SQL_DIR / "ddl").glob("*.sql")):
            if script.name.count(".") > 1:  # a dialect variant: run only for its dialect
                if script.name.split(".")[-2] != conn.dialect.name:
                    continue
                run_script(conn, f"ddl/{script.name.rsplit('.', 2)[0]}")
            elif not any(script.with_name(f"{script.stem}.{d}.sql").exists() for d in ("sqlite", "postgresql")):
                run_script(conn, f"ddl/{script.stem}")
        add_missing_columns(conn)
    forget_column_types(engine)


def forget_column_types(engine: Engine) -> None:
    """Drop what :func:`insert_rows` remembers of the column types of ``engine``'s database: after the
    schema changed (:func:`create_schema` adding columns to an older warehouse, a database made again)."""
    url = str(engine.url)
    for key in [key for key in _COLUMN_KINDS if key[0] == url]:
        del _COLUMN_KINDS[key]


def add_missing_columns(conn: Connection) -> list[str]:
    """Add the :data:`ADDED_COLUMNS` a table of an older warehouse lacks (idempotent); returns them as
    ``table.column``."""
    inspector = sa.inspect(conn)
    added = []
    for table, columns in ADDED_COLUMNS.items():
        present = {c["name"] for c in inspector.get_columns(table)}
        for name, sql_type in columns.items():
            if name in present:
                continue
            guard = "if not exists " if conn.dialect.name == "postgresql" else ""
            conn.exec_driver_sql(f"alter table {table} add column {guard}{name} {sql_type}")
            added.append(f"{table}.{name}")
    return added


def has_table(conn: Connection, table: str) -> bool:
    """Whether the warehouse has ``table`` (optional tables of later steps: indicators, completeness)."""
    return sa.inspect(conn).has_table(table)


def _driver_value(value: Any) -> Any:
    """A value of a typed slice as the driver gave it: a missing value is ``None`` (NULL)."""
    return None if value is None or (isinstance(value, float) and value != value) else value


def _inferred_column(values: Sequence[Any]) -> Any:
    """A column of the driver's values typed as pandas infers it from them (``pd.Series(list(values))``).

    Text, whole numbers and floats, the columns of the staged rows, are inferred in pyarrow's C code
    (``pyarrow.array``) and handed to pandas as the same dtypes: a ``str`` column of arrow text, ``int64``,
    ``float64``, and whole numbers with a null as ``float64`` with NaN, as pandas makes them. Anything
    else (decimals, dates, booleans, a column of nulls, text mixed with numbers, an integer past 64
    bits) is left to pandas. Half the CPU of pandas' own inference (docs/performance.md)."""
    import pandas as pd
    import pyarrow as pa

    try:
        array = pa.array(values)
    except (pa.ArrowException, OverflowError, TypeError, ValueError):
        return pd.Series(list(values))
    if array.type in _arrow_inferred_types():
        return array.to_pandas()
    return pd.Series(list(values))


@cache
def _arrow_inferred_types() -> frozenset[Any]:
    """The arrow types :func:`_inferred_column` hands to pandas (pyarrow imported on first use)."""
    import pyarrow as pa

    return frozenset({pa.string(), pa.int64(), pa.float64()})


READ_CHUNK_ROWS = 50_000
"""Rows fetched and turned into columns at a time by :func:`read_frame` (bounded memory)."""


def read_frame(
    conn: Connection, name: str, *, as_objects: bool = False, tables: Mapping[str, str] | None = None, **params: Any
):
    """Run a query file and return a pandas DataFrame, built column-wise (much faster than from Row
    objects at hundreds of thousands of rows). Column types are inferred as pandas does for rows, or,
    with ``as_objects``, every column keeps the driver's Python values (object dtype; what the
    validation's helper columns compare).

    The driver's tuples are fetched :data:`READ_CHUNK_ROWS` at a time and each slice is turned into
    typed columns at once, so the Python objects of one slice only are alive (not of the whole result).
    A column whose slices were inferred as different types is inferred again over all its values,
    as one frame of all rows would have been."""
    return _frame_of_results([query(conn, name, tables=tables, **params)], as_objects)


def read_committed_frame(
    conn: Connection, name: str, *, table: str, tables: Mapping[str, str] | None = None, **params: Any
):
    """:func:`read_frame` of a query file whose columns are columns of ``table`` and whose rows
    ``conn``'s transaction has not written (it reads what is committed): the same frame, read through
    the database's ADBC driver (in C, the columns built as Arrow arrays instead of from the driver's Python
    tuples) on a connection of its own: PostgreSQL's over libpq in this process, SQLite's in a process of
    its own (:mod:`techreform.sqlite_arrow`: it carries a SQLite library of its own, which must not share a
    process with Python's). About half the time for the half a million staged rows of a national month
    (docs/performance.md, round 22).

    The frame is :func:`read_frame`'s, column for column: text as ``str``, whole numbers as ``int64``
    (``float64`` with NaN when one is missing), floats as ``float64``, a column of nulls as objects. When
    that cannot be said of what the driver gave, the query is run through ``conn`` by :func:`read_frame`:
    a SQLite database in memory (no other connection sees it), a column whose type is not its declared
    kind in ``table`` (:func:`_column_kinds`; SQLite keeps a value of another type in any column, and the
    driver then writes the column's numbers as text), a column of another type (decimals, dates,
    booleans, bytes), an error of the driver or of its process, or no ADBC driver. Nothing is written
    through the other connection.

    SQLite: what ``conn`` reads before its first write is read outside a transaction by the driver
    (pysqlite begins one at the first write), so the other connection reads the same committed rows. On
    PostgreSQL every statement of a ``read committed`` transaction sees what was committed when it began,
    as the other connection's does; but statistics ``ANALYZE`` gathered in ``conn``'s open transaction are
    not seen by the other connection's planner (:func:`techreform.load.load_form_period` commits the
    staging table's before it reads)."""
    table_read = _read_arrow(conn, sql_text(name, conn.dialect.name, tables), params)
    frame = _frame_of_arrow(table_read, _column_kinds(conn, table)) if table_read is not None else None
    del table_read
    if frame is None:
        return read_frame(conn, name, tables=tables, **params)
    return frame


def _read_arrow(conn: Connection, statement: str, params: Mapping[str, Any]) -> Any:
    """The rows of ``statement`` as a pyarrow Table, read through ADBC's driver of ``conn``'s database on
    a connection of its own (SQLite's in a process of its own: :mod:`techreform.sqlite_arrow`), or
    ``None`` (:func:`read_committed_frame` says when)."""
    url = conn.engine.url
    try:
        if conn.dialect.name == "postgresql":
            import adbc_driver_postgresql.dbapi as adbc
            from sqlalchemy.dialects.postgresql import psycopg

            compiled = sa.text(statement).compile(dialect=psycopg.dialect(paramstyle="numeric_dollar"))  # $1, $2
            values = compiled.construct_params(dict(params))
            query_args = {"application_name": "techreform", **url.query}  # as the engine names its sessions
            uri = url.set(drivername="postgresql", query=query_args).render_as_string(hide_password=False)
            with _postgresql_arrow_connection(adbc, uri) as connection, connection.cursor() as cursor:
                cursor.execute(compiled.string, [values[key] for key in compiled.positiontup or ()])
                return cursor.fetch_arrow_table()
        if (
            conn.dialect.name == "sqlite"
            and not in_memory(url)
            and _has_rows(conn, statement, params, ARROW_PROCESS_MIN_ROWS)
        ):
            from sqlalchemy.dialects.sqlite import pysqlite

            compiled = sa.text(statement).compile(dialect=pysqlite.dialect())  # ?
            values = compiled.construct_params(dict(params))
            return _sqlite_arrow_in_its_own_process(
                {
                    "database": str(Path(url.database).resolve()),
                    "statement": compiled.string,
                    "parameters": [values[key] for key in compiled.positiontup or ()],
                    "busy_timeout_ms": SQLITE_BUSY_TIMEOUT_SECONDS * 1000,
                }
            )
        return None
    except ImportError:
        return None
    except OSError as exc:  # the driver's error while reading its batches, as pyarrow raises it
        _log.debug("read through the engine, not ADBC: %s", exc)
        return None
    except Exception as exc:  # the driver's other errors (adbc_driver_manager.Error): the same
        if type(exc).__module__.startswith("adbc_driver_manager"):
            _log.debug("read through the engine, not ADBC: %s", exc)
            return None
        raise


ARROW_PROCESS_MIN_ROWS = 50_000
"""SQLite: a read of fewer rows is left to the engine. The reading process takes 0.2–0.3 s to start and
saves some 8 µs a row (docs/performance.md, round 22): about even at 35,000 rows."""


def _has_rows(conn: Connection, statement: str, params: Mapping[str, Any], rows: int) -> bool:
    """Whether ``statement`` gives at least ``rows`` rows: counted up to ``rows`` (its first rows only)."""
    counted = conn.execute(
        sa.text(f"select count(*) from (select 1 from ({statement.strip().rstrip(';')}) limit :at_least)"),
        {**params, "at_least": rows},
    ).scalar_one()
    return counted >= rows


def _sqlite_arrow_in_its_own_process(request: dict[str, Any]) -> Any:
    """The pyarrow Table :mod:`techreform.sqlite_arrow` reads for ``request`` in a process of its own (this
    interpreter, its environment), or ``None`` when it could not (its error is logged at debug level)."""
    import subprocess
    import sys
    import tempfile

    import pyarrow as pa

    try:
        payload = json.dumps(request).encode()
    except TypeError:  # a parameter JSON cannot carry (a date): the engine binds it
        return None
    # its errors to a file, not a pipe: a pipe nobody reads while the rows are read could fill and stop it
    with (
        tempfile.TemporaryFile() as errors,
        subprocess.Popen(
            [sys.executable, "-m", "techreform.sqlite_arrow"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=errors,
        ) as child,
    ):
        try:
            child.stdin.write(payload)
            child.stdin.close()
            table = pa.ipc.open_stream(child.stdout).read_all()
        except (OSError, pa.ArrowException):  # not a stream of Arrow: stopped, not waited for (it may write on)
            child.kill()
            table = None
        except BaseException:
            child.kill()
            raise
        if child.wait() != 0 or table is None:
            errors.seek(0)
            last = errors.read().decode(errors="replace").strip().splitlines()[-1:]
            _log.debug("read through the engine, not ADBC's SQLite driver: %s", last[0] if last else child.returncode)
            return None
    return table


def _postgresql_arrow_connection(adbc: Any, uri: str) -> Any:
    """A new ADBC connection to the PostgreSQL database ``uri`` (autocommit: it holds no transaction),
    cloned from this process's first connection to it: the driver reads the server's type catalog when a
    database is opened (80 ms here), once per process instead of once per read. That first connection
    stays open, idle, until :func:`dispose_engines`; a process forked from this one opens its own."""
    key = (os.getpid(), uri)
    with _ARROW_CONNECTIONS_LOCK:
        if key not in _ARROW_CONNECTIONS:
            _ARROW_CONNECTIONS[key] = adbc.connect(uri, autocommit=True)
        return _ARROW_CONNECTIONS[key].adbc_clone()


_ARROW_CONNECTIONS: dict[tuple[int, str], Any] = {}
_ARROW_CONNECTIONS_LOCK = threading.Lock()


def _frame_of_arrow(table: Any, kinds: Mapping[str, str]):
    """``table`` (pyarrow) as :func:`read_frame` would have built it from the driver's values, or ``None``
    when a column's type is not what its declared kind in ``kinds`` gives (:func:`read_committed_frame`)."""
    import pandas as pd
    import pyarrow as pa

    if table.num_rows == 0:
        return pd.DataFrame(columns=table.column_names, dtype=object)
    columns = {}
    for name, column in zip(table.column_names, table.columns):
        kind, kind_of = kinds.get(name), column.type
        if column.null_count == len(column):  # pandas makes a column of Nones objects
            columns[name] = pd.Series([None] * len(column), dtype=object)
            continue
        if kind == "integer" and pa.types.is_signed_integer(kind_of):
            column = column.cast(pa.int64())  # smallint and integer too: Python ints to psycopg
        elif not (
            (kind == "text" and kind_of == pa.string())
            # SQLite keeps a fraction given to an integer column: float64, as read_frame makes of it too
            or (kind in ("float", "integer") and kind_of == pa.float64())
        ):
            return None
        columns[name] = column.to_pandas()
    return pd.DataFrame(columns, columns=table.column_names, copy=False)


def read_frame_in(conn: Connection, name: str, codes: Sequence[str], *, as_objects: bool = False, **params: Any):
    """:func:`read_frame` of a query file whose ``:codes`` is an expanding list, run on
    :data:`IN_LIST_CHUNK` codes at a time as :func:`query_in` runs it: one frame of every chunk's rows,
    its columns typed as :func:`read_frame` types them (the columns of no rows when ``codes`` is empty)."""
    return _frame_of_results(_results_in(conn, name, codes, params, at_least_once=True), as_objects)


def _frame_of_results(results: Iterable[sa.CursorResult], as_objects: bool):
    """One DataFrame of the rows of ``results`` (results of the same columns, consumed and closed one
    after the other), built as :func:`read_frame` describes."""
    import pandas as pd

    keys: list[str] = []
    pieces: list[list[Any]] = []
    for result in results:
        keys = list(result.keys())
        pieces = pieces or [[] for _ in keys]
        cursor = result.cursor  # the driver's tuples, not SQLAlchemy Rows (a text() query has no result types)
        try:
            with cycle_collection_paused():  # the driver's tuples hold no cycles (techreform.memory)
                while cursor is not None:
                    rows = cursor.fetchmany(READ_CHUNK_ROWS)
                    if not rows:
                        break
                    for i, values in enumerate(zip(*rows)):
                        pieces[i].append(pd.Series(values, dtype=object) if as_objects else _inferred_column(values))
                    del rows
        finally:
            result.close()
    if not pieces or not pieces[0]:
        return pd.DataFrame(columns=keys, dtype=object)
    frame = {}
    for key, parts in zip(keys, pieces):
        if len(parts) == 1:
            frame[key] = parts[0]
        elif len({str(part.dtype) for part in parts}) == 1:
            frame[key] = pd.concat(parts, ignore_index=True)
        else:
            frame[key] = pd.Series([_driver_value(v) for part in parts for v in part.astype(object).tolist()])
        parts.clear()
    return pd.DataFrame(frame, columns=keys, copy=False)  # the columns as built: not copied again
