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


def changes(before: dict[str, list[tuple]], after: dict[str, list[tuple]], shown: int = 5) -> dict[str, dict]:
    """The tables whose rows differ between two snapshots: for each, the counts and the first rows gone and new.

    Empty when nothing changed, so ``assert changes(before, snapshot(url)) == {}`` names the table that moved
    instead of printing every row of every table.
    """
    found: dict[str, dict] = {}
    for name in sorted(set(before) | set(after)):
        old, new = before.get(name), after.get(name)
        if old == new:
            continue
        old_set, new_set = set(old or ()), set(new or ())
        found[name] = {
            "rows": (None if old is None else len(old), None if new is None else len(new)),
            "gone": sorted(old_set - new_set, key=repr)[:shown],
            "new": sorted(new_set - old_set, key=repr)[:shown],
        }
    return found
