"""Every indicator of the scope (sources E1, P1, E1+R1) computed on a generated province for
2010-01..2015-12, on SQLite and PostgreSQL alike, with cells recomputed in pandas from the same facts.

The facts are built from the generator's landing files with the pipeline's own readers and cell parsing
(``read_delivery`` + ``parse_table``), keeping the rows the generator's ground truth does not mark with a
hard defect, the latest row per key — what the load accepts — and loaded with ``insert_rows``. Running
the whole chain (``run_period``, GX validation included) for 72 periods takes minutes per database; the
slow test at the end runs it for a few periods and checks its indicators equal these."""

from __future__ import annotations

import math
import uuid
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from indicators_fixtures import indicator_frame, insert, warehouse
from techreform.config import Settings
from techreform.forms import form
from techreform.generator import GeneratorConfig, generate
from techreform.indicators import compute_indicators_range
from techreform.indicators.catalogue import load_catalogue
from techreform.ingest import parse_table
from techreform.readers import UnreadableFile, read_delivery
from techreform.reference import counties, industry_divisions
from techreform.warehouse import dispose_engines

FIRST, LAST = "2010-01", "2015-12"
CONFIG = GeneratorConfig(enterprises=40, projects=16, file_formats=(("csv-utf8", 1.0),))
FOLDERS = {"E1": "enterprise_monthly", "P1": "project_monthly", "R1": "enterprise_register"}
IN_SCOPE = [i.code for i in load_catalogue(None) if i.source in ("E1", "P1", "E1+R1")]


def _parsed_rows(root: Path, code: str, hard: set[tuple[str, int]]) -> pd.DataFrame:
    frames = []
    for path in sorted((root / "landing" / FOLDERS[code]).glob("*/*.*")):
        try:
            parsed = parse_table(form(code), read_delivery(path))
        except UnreadableFile:
            continue
        rows = [r for r in parsed.staged if (path.name, r["source_row"]) not in hard]
        frame = pd.DataFrame(rows)
        frame["delivery_period"] = path.parent.name
        frames.append(frame)
    data = pd.concat(frames, ignore_index=True).drop(columns=["raw_json"])
    county = {c: d.prefecture_code for c, d in counties().items()}
    data["prefecture_code"] = data["region_code"].map(county)
    return data


def build_facts(root: Path) -> dict[str, pd.DataFrame]:
    """fct_enterprise_monthly, fct_project_monthly and dim_enterprise_register rows from generated files."""
    defects = pd.read_csv(root / "ground_truth" / "defects.csv", dtype=str)
    hard = {
        (f, int(r)) for f, r in defects[defects.severity == "hard"][["file_name", "source_row"]].itertuples(index=False)
    }
    common = {"review_status": "ok", "soft_rule_ids": "", "file_sha256": "generated"}
    e1 = (
        _parsed_rows(root, "E1", hard)
        .drop_duplicates(["uscc", "period"], keep="last")
        .drop(columns=["delivery_period"])
    )
    e1 = e1.assign(**common).astype(object)
    p1 = (
        _parsed_rows(root, "P1", hard)
        .drop_duplicates(["project_code", "period"], keep="last")
        .drop(columns=["delivery_period"])
    )
    p1 = p1.assign(**common).astype(object)
    r1 = _parsed_rows(root, "R1", hard).rename(columns={"delivery_period": "snapshot_period"})
    r1 = r1.drop(columns=["source_row"]).drop_duplicates(["snapshot_period", "uscc"], keep="last").astype(object)
    lights = pd.read_csv(root / "ground_truth" / "lights.csv", dtype=str)
    return {"fct_enterprise_monthly": e1, "fct_project_monthly": p1, "dim_enterprise_register": r1, "lights": lights}


def _records(frame: pd.DataFrame) -> list[dict]:
    return [
        {k: (None if v is None or (isinstance(v, float) and math.isnan(v)) else v) for k, v in r.items()}
        for r in frame.to_dict("records")
    ]


def _supervision_rows(facts: dict[str, pd.DataFrame]) -> tuple[list[dict], list[dict]]:
    """sup_project_light and sup_run rows from the generator's expected lights (what supervision yields)."""
    projects = facts["fct_project_monthly"].drop_duplicates("project_code", keep="last").set_index("project_code")
    lights = facts["lights"][facts["lights"].project_code.isin(projects.index)]
    rows = [
        {
            "period": r.period,
            "project_code": r.project_code,
            "project_name": "x",
            "uscc": "x",
            "enterprise_name": "x",
            "region_code": projects.region_code[r.project_code],
            "county_name": "x",
            "prefecture_code": projects.prefecture_code[r.project_code],
            "prefecture_name": "x",
            "key_project": 0,
            "annual_plan_investment": None,
            "ytd_investment": None,
            "lag_pp": None,
            "light": r.light,
            "reasons": "",
            "escalated": 0,
            "source": "accepted",
        }
        for r in lights.itertuples(index=False)
    ]
    runs = [
        {
            "period": p,
            "projects": len(g),
            "green": int((g.light == "green").sum()),
            "yellow": int((g.light == "yellow").sum()),
            "red": int((g.light == "red").sum()),
            "escalated": 0,
        }
        for p, g in lights.groupby("period")
    ]
    return rows, runs


def _load_and_compute(url: str, facts: dict[str, pd.DataFrame], data_dir: Path) -> pd.DataFrame:
    engine = warehouse(url)
    for table in ("fct_enterprise_monthly", "fct_project_monthly", "dim_enterprise_register"):
        insert(engine, table, _records(facts[table]))
    lights, runs = _supervision_rows(facts)
    insert(engine, "sup_project_light", lights)
    insert(engine, "sup_run", runs)
    settings = Settings.from_env({"TECHREFORM_DATA_DIR": str(data_dir), "TECHREFORM_WAREHOUSE_URL": url})
    compute_indicators_range(engine, settings, FIRST, LAST)
    return indicator_frame(engine)


@pytest.fixture(scope="module")
def generated(tmp_path_factory, pg_available):
    """The generated province's facts and its indicators for 2010-01..2015-12 on SQLite and PostgreSQL."""
    if not pg_available:
        pytest.skip("PostgreSQL is not reachable")
    root = tmp_path_factory.mktemp("generated")
    generate(root, CONFIG)
    facts = build_facts(root)
    from conftest import PG_ADMIN_URL

    name = f"techreform_ind_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'create database "{name}"')
    try:
        sqlite_frame = _load_and_compute(f"sqlite:///{root / 'warehouse.sqlite'}", facts, root / "sqlite")
        pg_frame = _load_and_compute(PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}", facts, root / "pg")
        yield facts, sqlite_frame, pg_frame
    finally:
        dispose_engines()
        with admin.connect() as conn:
            conn.exec_driver_sql(f'drop database if exists "{name}" with (force)')
        admin.dispose()


def test_every_indicator_of_the_scope_has_values_for_2010_to_2015(generated):
    _, results, _ = generated
    province = results[results.level == "province"]
    assert province.period.nunique() == 72
    for code in IN_SCOPE:
        rows = province[province.indicator_code == code]
        with_value = rows[rows.status != "no_data"]
        assert len(with_value) >= 50, f"{code}: only {len(with_value)} periods with a value"
    plan = province[(province.period >= "2011-02") & province.indicator_code.isin(["VA_RATE", "TR_INV_CUM"])]
    assert set(plan.status) <= {"met", "on_track", "lagging"}
    # the annual and registry indicators are listed, without data yet
    annual = province[~province.indicator_code.isin(IN_SCOPE)]
    assert not annual.empty and set(annual.status) == {"no_data"}


def test_sqlite_and_postgresql_agree_on_every_row_of_the_generated_province(generated):
    _, sqlite_frame, pg_frame = generated
    assert len(sqlite_frame) == len(pg_frame) > 72 * 400
    numeric = sqlite_frame.select_dtypes("number").columns
    text = [c for c in sqlite_frame.columns if c not in numeric]
    pd.testing.assert_frame_equal(sqlite_frame[text], pg_frame[text])
    pd.testing.assert_frame_equal(
        sqlite_frame[numeric].astype(float), pg_frame[numeric].astype(float), check_exact=False, rtol=1e-9, atol=1e-9
    )


def _row(results: pd.DataFrame, period: str, code: str, level: str = "province", area: str = "620000") -> pd.Series:
    rows = results[
        (results.period == period)
        & (results.indicator_code == code)
        & (results.level == level)
        & (results.area_code == area)
    ]
    assert len(rows) == 1
    return rows.iloc[0]


def test_sample_cells_of_the_generated_province_recomputed_in_pandas(generated):
    facts, results, _ = generated
    e1 = facts["fct_enterprise_monthly"].copy()
    for column in ("gross_output", "value_added", "revenue", "techreform_investment", "employees"):
        e1[column] = pd.to_numeric(e1[column])
    e1["sector_group"] = e1.industry_code.str[:2].map({k: v["sector_group"] for k, v in industry_divisions().items()})
    checked = 0
    for period in ("2012-06", "2013-02", "2015-12"):
        now = e1[e1.period == period]
        for prefecture, group in now.groupby("prefecture_code"):
            both = group.dropna(subset=["value_added", "gross_output"])
            row = _row(results, period, "VA_RATE", "prefecture", prefecture)
            assert math.isclose(row.value, both.value_added.sum() / both.gross_output.sum() * 100, rel_tol=1e-9)
            checked += 1
        both = now.dropna(subset=["value_added", "employees"])
        month = int(period[5:])
        assert math.isclose(
            _row(results, period, "LABOR_PROD").value,
            (both.value_added * 12 / month).sum() / both.employees.sum(),
            rel_tol=1e-9,
        )
        year = int(period[:4])
        decembers = [f"{y}-12" for y in range(2011, year)]
        cumulative = e1[e1.period.isin([*decembers, period])].techreform_investment.sum() / 10000
        assert math.isclose(_row(results, period, "TR_INV_CUM").value, cumulative, rel_tol=1e-9)
        last = e1[e1.period == f"{year - 1}{period[4:]}"].set_index("uscc").techreform_investment.dropna()
        current = now.set_index("uscc").techreform_investment.dropna()
        common = current.index.intersection(last.index)
        assert math.isclose(
            _row(results, period, "TR_INV_GROWTH").value,
            (current[common].sum() / last[common].sum() - 1) * 100,
            rel_tol=1e-9,
        )
    assert checked >= 20
    # reporting rate from the register in force and the facts
    register = facts["dim_enterprise_register"]
    snapshot = register[register.snapshot_period <= "2014-03"].snapshot_period.max()
    expected = register[
        (register.snapshot_period == snapshot) & (register.above_scale == 1) & (register.operating_status == "在营")
    ]
    reported = expected.uscc.isin(e1[e1.period == "2014-03"].uscc).sum()
    assert math.isclose(_row(results, "2014-03", "REPORTING_RATE").value, reported / len(expected) * 100)
    # red projects from the lights
    lights = facts["lights"]
    red = lights[
        (lights.period == "2013-06")
        & (lights.light == "red")
        & lights.project_code.isin(facts["fct_project_monthly"].project_code)
    ]
    assert _row(results, "2013-06", "PROJECT_RED").value == len(red)


@pytest.mark.slow
def test_the_pipeline_computes_the_same_indicators_as_the_facts_it_loaded(tmp_path, warehouse_url):
    """run_period (ingest, GX validation, load, indicators, supervision) for a few periods of the generated
    province; recomputing the indicators from the facts the chain loaded gives the same rows."""
    from techreform.steps import run_period

    root = tmp_path / "data"
    generate(root, CONFIG)
    settings = Settings.from_env({"TECHREFORM_DATA_DIR": str(root), "TECHREFORM_WAREHOUSE_URL": warehouse_url})
    # a small province's planted defects can exceed the quality gate's share; the gate is not tested here
    settings = settings.with_options(validation={"hard_fail_threshold": 1.0})
    for period in ("2011-11", "2011-12", "2012-01", "2012-02"):
        run_period(settings, period, notify=False)
    from techreform.warehouse import engine_for

    engine = engine_for(warehouse_url)
    by_pipeline = indicator_frame(engine)
    assert set(by_pipeline.period) == {"2011-11", "2011-12", "2012-01", "2012-02"}
    assert (by_pipeline[by_pipeline.indicator_code == "VA_RATE"].status != "no_data").any()
    compute_indicators_range(engine, settings, "2011-11", "2012-02")
    pd.testing.assert_frame_equal(by_pipeline, indicator_frame(engine))
