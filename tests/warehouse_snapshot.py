"""Every row of every warehouse table, for "a re-run changes nothing" comparisons."""

from __future__ import annotations

import sqlalchemy as sa


def snapshot(url_or_engine) -> dict[str, list[tuple]]:
    engine = sa.create_engine(url_or_engine) if isinstance(url_or_engine, str) else url_or_engine
    tables: dict[str, list[tuple]] = {}
    with engine.connect() as conn:
        for name in sorted(sa.inspect(conn).get_table_names()):
            rows = conn.execute(sa.text(f'select * from "{name}"')).fetchall()  # noqa: S608 - names from the catalog
            tables[name] = sorted((tuple(r) for r in rows), key=repr)
    return tables
