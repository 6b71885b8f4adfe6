"""Computing a period's indicators on the warehouse: measures by SQL family, then values, targets and
statuses (``include/sql/marts/indicators/finalise.sql``), in one transaction that replaces the period.

Every period is computed from the facts alone (its own rows, the same period last year, the Decembers
of earlier plan years, and 2010-12 for the baseline), never from other periods' indicator rows: a
backfill over a range gives the same tables as month-by-month runs, in any order, and re-running a
period after a correction picks the correction up (see :func:`periods_affected_by`)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from techreform.config import Settings
from techreform.indicators.catalogue import Indicator, load_catalogue, revenue_threshold_yi, write_catalogue
from techreform.indicators.plan import BASELINE_PERIOD, PLAN_END, PLAN_START, path_share, year_start
from techreform.periods import Period, period_range
from techreform.reference import PROVINCE_CODE
from techreform.warehouse import delete_where, execute, has_table, in_memory, insert_rows, query, sql_text

EPSILON = 1e-9


def family_parameters(period: Period, settings: Settings | None) -> dict[str, Any]:
    """The bound parameters every family SQL file may use for ``period``."""
    last_year = period.same_period_last_year
    threshold_yi = revenue_threshold_yi(settings)
    return {
        "period": str(period),
        "period_last_year": str(last_year),
        "month": period.month,
        "year_start": str(year_start(period)),
        "year_start_last_year": str(year_start(last_year)),
        "plan_start": str(PLAN_START),
        "threshold_yi": threshold_yi,
        "threshold_wan": threshold_yi * 10000.0,
        "province_code": PROVINCE_CODE,
    }


def families_to_run(conn: Connection, catalogue: Iterable[Indicator], only: str | None = None) -> list[str]:
    """The SQL families of the catalogue, in catalogue order, whose required tables (``requires_table``,
    space-separated) all exist."""
    out: list[str] = []
    for ind in catalogue:
        if not ind.family or ind.family in out or (only and ind.code != only):
            continue
        if not all(has_table(conn, table) for table in ind.requires_table.split()):
            continue
        out.append(ind.family)
    return out


FAMILY_READERS = 2
"""How many connections read the families' cells side by side (:func:`family_cells`): each family is one
long read (``e1_ratios`` most of the indicators' time), the database's cores do the work."""

CELL_COLUMNS = (
    "indicator_code",
    "level",
    "area_code",
    "prefecture_code",
    "sector_group",
    "value_rule",
    "numerator",
    "denominator",
    "numerator_comparable",
    "denominator_comparable",
    "numerator_last_year",
    "denominator_last_year",
    "reporters",
)
"""The columns of a family's cells (``marts/indicators/unit_cells.sql``), as ``wrk_indicator_unit`` names them."""


PREFECTURE_PARTED_FAMILIES = frozenset({"e1_ratios"})
"""The families whose every cell is within one prefecture of the period's enterprise facts and whose read is
most of the indicators' time: read side by side, such a family is read in two parts, over two sets of
the period's prefectures with about as many facts each (:func:`prefecture_parts`), so that its one long
read is not the indicators' whole time while the other reader waits. Their SQL takes ``prefecture_part``
(0 all, 1 the prefectures of the list ``part_prefectures``, 2 the others)."""


def family_cells(
    conn: Connection,
    families: list[str],
    measure_period: Period,
    settings: Settings | None,
    readers: Engine | None = None,
) -> list[dict[str, Any]]:
    """Each family's cells for ``measure_period``: its unit rows summed by ``marts/indicators/unit_cells.sql``,
    as rows of :data:`CELL_COLUMNS`, the families in their order.

    With ``readers`` (the warehouse's engine) the families are read side by side on up to
    :data:`FAMILY_READERS` connections of their own: they read only what the steps before this one
    committed (the facts, the register, the supervision's lights) and the catalogue's zones, which
    :func:`compute_indicators` commits first; a family of :data:`PREFECTURE_PARTED_FAMILIES` is read in two
    parts by prefecture. Without it (a warehouse in memory, which one connection holds) they are read on
    ``conn``, one after the other, each whole. The cells are the same either way: their amounts are exact
    sums, whatever order anything is read in, and no cell of a parted family spans two prefectures."""
    params = family_parameters(measure_period, settings)
    cells = sql_text("marts/indicators/unit_cells", conn.dialect.name)
    parted = readers is not None and not PREFECTURE_PARTED_FAMILIES.isdisjoint(families)
    first_part = prefecture_parts(conn, measure_period) if parted else []
    reads: list[tuple[Any, dict[str, Any]]] = []
    for family in families:
        units = sql_text(f"marts/indicators/{family}", conn.dialect.name).strip().rstrip(";")
        statement = sa.text(f"with family_units as (\n{units}\n)\n{cells}")
        if family not in PREFECTURE_PARTED_FAMILIES:
            reads.append((statement, params))
            continue
        statement = statement.bindparams(sa.bindparam("part_prefectures", expanding=True))
        if not first_part:
            reads.append((statement, {**params, "prefecture_part": 0, "part_prefectures": [""]}))
            continue
        for part in (1, 2):
            reads.append((statement, {**params, "prefecture_part": part, "part_prefectures": first_part}))
    if readers is None or len(reads) < 2:
        read = [conn.execute(statement, bound).all() for statement, bound in reads]
    else:
        read = _read_side_by_side(readers, reads)
    return [dict(zip(CELL_COLUMNS, row, strict=True)) for family_rows in read for row in family_rows]


def prefecture_parts(conn: Connection, period: Period) -> list[str]:
    """The first of the two parts a family of :data:`PREFECTURE_PARTED_FAMILIES` is read in for ``period``
    (:func:`first_prefecture_part` of the period's enterprise facts by prefecture,
    ``marts/indicators/prefecture_facts.sql``); the second part is every other prefecture."""
    rows = query(conn, "marts/indicators/prefecture_facts", period=str(period)).all()
    return first_prefecture_part([(str(code), int(facts)) for code, facts in rows])


def first_prefecture_part(facts: list[tuple[str, int]]) -> list[str]:
    """Of ``facts`` (each prefecture's code and facts, in code order), the first prefectures whose facts come
    nearest to half of all (at least one, never the last); ``[]`` (read whole) for fewer than two."""
    if len(facts) < 2:
        return []
    half = sum(n for _, n in facts) / 2
    first: list[str] = []
    taken = 0
    for code, n in facts[:-1]:
        if first and abs(taken + n - half) > abs(taken - half):
            break
        first.append(code)
        taken += n
    return first


def collect_measures(conn: Connection, cells: list[dict[str, Any]], run_period: Period, measure_period: Period) -> None:
    """Write ``cells`` (:func:`family_cells` of ``measure_period``) to the scratch table ``wrk_indicator_unit``
    and roll them up into ``wrk_indicator_measure`` (inside the database)."""
    tag = {"run_period": str(run_period), "measure_period": str(measure_period)}
    if cells:
        insert_rows(conn, "wrk_indicator_unit", [{**tag, **cell} for cell in cells], [*tag, *CELL_COLUMNS])
    execute(conn, "marts/indicators/rollup", {**tag, "province_code": PROVINCE_CODE})


def _read_side_by_side(engine: Engine, reads: list[tuple[Any, dict[str, Any]]]) -> list[list[Any]]:
    """The rows of each of ``reads`` (a statement and its parameters; in their order), read on up to
    :data:`FAMILY_READERS` connections of ``engine`` at once (threads: the drivers let go of the interpreter
    while the database works)."""
    from concurrent.futures import ThreadPoolExecutor

    def read(statement_and_parameters: tuple[Any, dict[str, Any]]) -> list[Any]:
        statement, parameters = statement_and_parameters
        with engine.connect() as reader:
            return list(reader.execute(statement, parameters).all())

    with ThreadPoolExecutor(max_workers=FAMILY_READERS, thread_name_prefix="family") as pool:
        return list(pool.map(read, reads))


def _write_period(
    conn: Connection,
    settings: Settings | None,
    period: Period,
    catalogue: list[Indicator],
    only: str | None,
    readers: Engine | None = None,
) -> dict[str, Any]:
    families = families_to_run(conn, catalogue, only)
    # read before anything is written: on SQLite the transaction takes the database's one write lock at
    # its first write, and the steps beside this one (the supervision) write meanwhile
    cells = {p: family_cells(conn, families, p, settings, readers) for p in sorted({period, BASELINE_PERIOD})}
    for scratch in ("wrk_indicator_unit", "wrk_indicator_measure"):
        delete_where(conn, scratch, run_period=str(period))
    for measure_period, measure_cells in cells.items():
        collect_measures(conn, measure_cells, period, measure_period)
    if only:
        delete_where(conn, "fct_indicator", period=str(period), indicator_code=only)
    else:
        delete_where(conn, "fct_indicator", period=str(period))
    execute(
        conn,
        "marts/indicators/finalise",
        {
            "period": str(period),
            "baseline_period": str(BASELINE_PERIOD),
            "path_share": path_share(period),
            "all_indicators": 0 if only else 1,
            "indicator_code": only or "",
            "epsilon": EPSILON,
        },
    )
    for scratch in ("wrk_indicator_unit", "wrk_indicator_measure"):
        delete_where(conn, scratch, run_period=str(period))
    statuses = query(
        conn,
        "marts/indicators/status_counts",
        period=str(period),
        all_indicators=0 if only else 1,
        indicator_code=only or "",
    ).all()
    counts = Counter({s: int(n) for s, n in statuses})
    return {
        "period": str(period),
        "families": families,
        "rows": sum(counts.values()),
        "by_status": dict(sorted(counts.items())),
    }


def compute_indicators(engine: Engine, settings: Settings, period: Period | str) -> dict:
    """Compute every indicator of ``period`` and replace the period's rows of ``fct_indicator`` in one
    transaction, after the catalogue (``dim_indicator``, ``dim_indicator_zone``) is rewritten in one of its
    own; the families are read side by side (:func:`family_cells`). PROJECT_RED is included when
    the supervision table exists. Returns a small summary (rows by status, families run)."""
    period = Period.parse(period)
    catalogue = load_catalogue(settings)
    with engine.begin() as conn:  # committed first: the families' readers see the zones
        write_catalogue(conn, catalogue)
    with engine.begin() as conn:
        return _write_period(conn, settings, period, catalogue, None, None if in_memory(engine.url) else engine)


def refresh_supervision_indicators(engine: Engine, settings: Settings, period: Period | str) -> dict:
    """Recompute PROJECT_RED for ``period`` after supervision ran (one transaction, only its rows);
    while ``sup_project_light`` does not exist its rows say ``no_data``."""
    period = Period.parse(period)
    catalogue = load_catalogue(settings)
    with engine.begin() as conn:
        write_catalogue(conn, catalogue)
        return _write_period(conn, settings, period, catalogue, "PROJECT_RED")


def compute_indicators_range(engine: Engine, settings: Settings, first: Period | str, last: Period | str) -> list[dict]:
    """Backfill: :func:`compute_indicators` for every period of ``first..last`` (one transaction each)."""
    return [compute_indicators(engine, settings, p) for p in period_range(first, last)]


def periods_affected_by(corrected: Period | str, last: Period | str | None = None) -> list[Period]:
    """The periods up to ``last`` (default: the later of 2015-12 and a year after ``corrected``) whose
    indicators a correction of ``corrected``'s facts can change, to re-run after it: ``corrected`` itself
    and the same period next year (its same period last year); when it is a December, every later period
    (cumulative investment adds earlier years' Decembers); when it is the 2010-12 baseline, every period
    from 2010-01 (baselines and targets)."""
    corrected = Period.parse(corrected)
    last = max(PLAN_END, corrected.shift(12)) if last is None else Period.parse(last)
    if corrected == BASELINE_PERIOD:
        candidates = set(period_range(Period(2010, 1), max(last, corrected)))
    elif corrected.month == 12:
        candidates = set(period_range(corrected, max(last, corrected)))
    else:
        candidates = {corrected, corrected.shift(12)}
    return sorted(p for p in candidates if p <= last)


def recompute_after_correction(engine: Engine, settings: Settings, corrected: Period | str) -> list[dict]:
    """Re-run ``corrected`` and every period already computed that :func:`periods_affected_by` lists."""
    corrected = Period.parse(corrected)
    with engine.connect() as conn:
        computed = {Period.parse(r[0]) for r in query(conn, "marts/indicators/computed_periods")}
    last = max(computed | {corrected})
    todo = [p for p in periods_affected_by(corrected, last) if p in computed or p == corrected]
    return [compute_indicators(engine, settings, p) for p in todo]
