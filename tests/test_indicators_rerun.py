"""Re-runs replace a period as a whole; a backfill gives the same tables as month-by-month runs; a
corrected earlier month changes the later months that depend on it when they are re-run; SQLite and
PostgreSQL give the same indicators from the same facts."""

from __future__ import annotations

import math

import pandas as pd
import sqlalchemy as sa

from indicators_fixtures import (
    cell,
    enterprise,
    indicator_frame,
    insert,
    project,
    random_facts,
    register_row,
    warehouse,
)
from techreform.config import Settings
from techreform.indicators import (
    compute_indicators,
    compute_indicators_range,
    periods_affected_by,
    recompute_after_correction,
)
from techreform.periods import Period, period_range

PERIODS = [str(p) for p in period_range("2010-11", "2012-03")]


def _settings(tmp_path, url: str) -> Settings:
    return Settings.from_env({"TECHREFORM_DATA_DIR": str(tmp_path), "TECHREFORM_WAREHOUSE_URL": url})


def _load_sample(engine) -> None:
    insert(engine, "fct_enterprise_monthly", random_facts(seed=11, periods=PERIODS, enterprises=30))
    insert(
        engine,
        "dim_enterprise_register",
        [register_row("2010-01", n, emerging_industry=int(n % 4 == 0)) for n in range(1, 31)],
    )
    insert(
        engine,
        "fct_project_monthly",
        [project(p, n, ytd_investment=100.0 * n * int(p[5:])) for p in PERIODS for n in range(1, 6)],
    )


def _everything(engine) -> dict[str, pd.DataFrame]:
    with engine.connect() as conn:
        return {
            t: pd.read_sql_query(sa.text(f"select * from {t}"), conn).sort_values(k).reset_index(drop=True)
            for t, k in (
                ("fct_indicator", ["period", "indicator_code", "level", "area_code"]),
                ("dim_indicator", ["code"]),
                ("wrk_indicator_measure", ["run_period"]),
            )
        }


def test_rerunning_a_period_changes_nothing(warehouse_url, tmp_path):
    engine = warehouse(warehouse_url)
    _load_sample(engine)
    settings = _settings(tmp_path, warehouse_url)
    first = compute_indicators(engine, settings, "2011-12")
    before = _everything(engine)
    second = compute_indicators(engine, settings, "2011-12")
    after = _everything(engine)
    assert first == second and first["rows"] > 400
    for table in before:
        pd.testing.assert_frame_equal(before[table], after[table])
    assert after["wrk_indicator_measure"].empty


def test_the_indicators_do_not_depend_on_the_order_the_facts_are_stored_in(warehouse_url, tmp_path):
    """A rerun loads the period's facts again, and the database may store them in another order (on
    PostgreSQL, space freed by the delete is reused once vacuumed): the amounts summed over many rows
    (the rollup, the zones' and chains' revenue) must not change in their last digit with it."""
    engine = warehouse(warehouse_url)
    facts = random_facts(seed=5, periods=["2011-11", "2011-12", "2010-12"], enterprises=400)
    insert(engine, "fct_enterprise_monthly", facts)
    insert(engine, "dim_enterprise_register", [register_row("2010-01", n) for n in range(1, 401)])
    settings = _settings(tmp_path, warehouse_url)
    compute_indicators(engine, settings, "2011-12")
    stored_in_order = _everything(engine)["fct_indicator"]
    with engine.begin() as conn:
        conn.execute(sa.text("delete from fct_enterprise_monthly"))
    insert(engine, "fct_enterprise_monthly", facts[::-1])  # the same rows, stored in reverse order
    compute_indicators(engine, settings, "2011-12")
    stored_reversed = _everything(engine)["fct_indicator"]
    assert len(stored_in_order) > 400
    pd.testing.assert_frame_equal(stored_in_order, stored_reversed, check_exact=True)


def test_a_backfill_equals_month_by_month_runs_in_any_order(warehouse_url, tmp_path):
    engine = warehouse(warehouse_url)
    _load_sample(engine)
    settings = _settings(tmp_path, warehouse_url)
    compute_indicators_range(engine, settings, PERIODS[0], PERIODS[-1])
    backfill = indicator_frame(engine)
    with engine.begin() as conn:
        conn.execute(sa.text("delete from fct_indicator"))
    for period in reversed(PERIODS):
        compute_indicators(engine, settings, period)
    pd.testing.assert_frame_equal(backfill, indicator_frame(engine))
    assert set(backfill.period) == set(PERIODS)


def test_a_corrected_earlier_month_changes_the_months_that_depend_on_it_when_rerun(warehouse_url, tmp_path):
    engine = warehouse(warehouse_url)
    insert(
        engine,
        "fct_enterprise_monthly",
        [
            enterprise("2011-03", 1, techreform_investment=100.0, value_added=300.0),
            enterprise("2011-12", 1, techreform_investment=1000.0),
            enterprise("2012-03", 1, techreform_investment=200.0, value_added=300.0),
            enterprise("2012-05", 1, techreform_investment=400.0),
        ],
    )
    settings = _settings(tmp_path, warehouse_url)
    for period in ("2011-03", "2012-03", "2012-05"):
        compute_indicators(engine, settings, period)
    before = indicator_frame(engine)
    # corrections: December 2011's investment (cumulative figures) and March 2011's (growth next March)
    with engine.begin() as conn:
        conn.execute(sa.text("update fct_enterprise_monthly set techreform_investment = 3000 where period = '2011-12'"))
        conn.execute(sa.text("update fct_enterprise_monthly set techreform_investment = 50 where period = '2011-03'"))
    affected = set(periods_affected_by("2011-12", "2012-05")) | set(periods_affected_by("2011-03", "2012-05"))
    assert {Period(2011, 3), Period(2012, 3), Period(2012, 5)} <= affected
    rerun = recompute_after_correction(engine, settings, "2011-12") + recompute_after_correction(
        engine, settings, "2011-03"
    )
    assert [r["period"] for r in rerun] == ["2011-12", "2012-03", "2012-05", "2011-03", "2012-03"]
    after = indicator_frame(engine)
    may = cell(after[after.period == "2012-05"], "TR_INV_CUM")
    assert math.isclose(may.value, (3000 + 400) / 10000)
    assert math.isclose(cell(before[before.period == "2012-05"], "TR_INV_CUM").value, (1000 + 400) / 10000)
    march = cell(after[after.period == "2012-03"], "TR_INV_GROWTH")
    assert math.isclose(march.value, (200 / 50 - 1) * 100)
    assert math.isclose(cell(before[before.period == "2012-03"], "TR_INV_GROWTH").value, (200 / 100 - 1) * 100)


def test_periods_affected_by_a_correction():
    assert periods_affected_by("2012-03", "2015-12") == [Period(2012, 3), Period(2013, 3)]
    assert periods_affected_by("2012-12", "2013-03") == [
        Period(2012, 12),
        Period(2013, 1),
        Period(2013, 2),
        Period(2013, 3),
    ]
    assert len(periods_affected_by("2010-12", "2015-12")) == 72
    assert periods_affected_by("2015-06", "2015-12") == [Period(2015, 6)]
    assert periods_affected_by("2016-02") == [Period(2016, 2), Period(2017, 2)]


def test_sqlite_and_postgresql_give_the_same_indicators_from_the_same_facts(sqlite_url, pg_url, tmp_path):
    frames = []
    for url in (sqlite_url, pg_url):
        engine = warehouse(url)
        _load_sample(engine)
        compute_indicators_range(engine, _settings(tmp_path, url), "2011-10", "2012-03")
        frames.append(indicator_frame(engine))
    sqlite_frame, pg_frame = frames
    assert len(sqlite_frame) == len(pg_frame) > 2000
    numeric = sqlite_frame.select_dtypes("number").columns
    text = [c for c in sqlite_frame.columns if c not in numeric]
    pd.testing.assert_frame_equal(sqlite_frame[text], pg_frame[text])
    pd.testing.assert_frame_equal(
        sqlite_frame[numeric].astype(float), pg_frame[numeric].astype(float), check_exact=False, rtol=1e-9, atol=1e-9
    )
    assert (sqlite_frame.status != "no_data").sum() > 500


def test_the_families_are_read_on_connections_of_their_own_and_give_the_indicators_read_one_by_one(
    warehouse_url, tmp_path, monkeypatch
):
    """``compute_indicators`` reads its families on connections beside the run's transaction (threads); read
    one after the other on that transaction's own connection (as a warehouse in memory is) the tables are
    the same, row for row."""
    import threading

    from techreform.indicators import compute

    engine = warehouse(warehouse_url)
    _load_sample(engine)
    settings = _settings(tmp_path, warehouse_url)
    readers: set[str] = set()

    @sa.event.listens_for(engine, "checkout")
    def _checked_out(*_args) -> None:
        readers.add(threading.current_thread().name)

    parts: list[object] = []
    read_side_by_side = compute._read_side_by_side

    def _recording(engine_, reads):
        parts.extend(parameters.get("prefecture_part") for _, parameters in reads)
        return read_side_by_side(engine_, reads)

    monkeypatch.setattr(compute, "_read_side_by_side", _recording)
    compute_indicators(engine, settings, "2011-12")
    side_by_side = _everything(engine)
    assert any(name.startswith("family") for name in readers)  # read on threads of their own
    assert parts.count(1) == parts.count(2) >= 1 and 0 not in parts  # e1_ratios in two parts by prefecture

    readers.clear()
    monkeypatch.setattr(compute, "in_memory", lambda _url: True)  # the families on the run's connection
    compute_indicators(engine, settings, "2011-12")
    assert not any(name.startswith("family") for name in readers)
    one_by_one = _everything(engine)
    for table, frame in side_by_side.items():
        pd.testing.assert_frame_equal(frame, one_by_one[table], check_exact=True, obj=table)
    assert len(side_by_side["fct_indicator"]) > 100


def test_a_family_read_in_two_parts_by_prefecture_gives_its_cells_read_whole(warehouse_url):
    """``e1_ratios`` read side by side is read in two parts, the second with every prefecture the first does
    not have: the parts' cells are the family's cells read whole, the same sums."""
    from techreform.indicators import compute

    engine = warehouse(warehouse_url)
    _load_sample(engine)
    period = Period.parse("2011-12")
    with engine.connect() as conn:
        first = compute.prefecture_parts(conn, period)
        every = {r[0] for r in conn.execute(sa.text("select distinct prefecture_code from fct_enterprise_monthly"))}
        parted = compute.family_cells(conn, ["e1_ratios"], period, None, readers=engine)
        whole = compute.family_cells(conn, ["e1_ratios"], period, None)
    assert first and set(first) < every

    def ordered(cells):
        return sorted((tuple(c[k] for k in compute.CELL_COLUMNS) for c in cells), key=repr)

    assert ordered(parted) == ordered(whole)
    assert {c["prefecture_code"] for c in whole} == every

    counted: list[str] = []  # the facts are counted by prefecture only when a parted family is read
    sa.event.listen(engine, "before_cursor_execute", lambda _c, _cur, sql, *_a: counted.append(sql))
    with engine.connect() as conn:
        compute.family_cells(conn, ["p1_schedule"], period, None, readers=engine)
        assert not [sql for sql in counted if "as facts" in sql]
        compute.family_cells(conn, ["p1_schedule", "e1_ratios"], period, None, readers=engine)
        assert len([sql for sql in counted if "as facts" in sql]) == 1


def test_the_first_part_of_the_prefectures_comes_nearest_to_half_the_facts_and_never_takes_the_last():
    from techreform.indicators.compute import first_prefecture_part

    assert first_prefecture_part(
        [
            ("620100", 156),
            ("620200", 16),
            ("620300", 16),
            ("620400", 41),
            ("620500", 47),
            ("620600", 31),
            ("620700", 31),
            ("620800", 26),
            ("620900", 36),
            ("621000", 31),
            ("621100", 21),
            ("621200", 16),
            ("622900", 21),
            ("623000", 10),
        ]
    ) == [
        "620100",
        "620200",
        "620300",
        "620400",
    ]  # 229 of 499 (the next, 276)
    assert first_prefecture_part([("a", 1), ("b", 1), ("c", 1), ("d", 1)]) == ["a", "b"]
    assert first_prefecture_part([("a", 90), ("b", 5), ("c", 5)]) == ["a"]  # at least one
    assert first_prefecture_part([("a", 1), ("b", 90)]) == ["a"]  # never the last
    assert first_prefecture_part([("a", 5), ("b", 5), ("c", 90)]) == ["a", "b"]
    assert first_prefecture_part([("a", 3)]) == first_prefecture_part([]) == []
