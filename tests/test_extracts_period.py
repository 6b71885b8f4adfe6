"""The extract of a period on a warehouse the pipeline loaded from a generated province, on SQLite and
PostgreSQL: read back as the bureau would (pyarrow, pandas, openpyxl) the numbers equal the warehouse;
the manifest describes every file; a re-run writes nothing; a correction writes r2 beside an untouched r1
with the corrected row in the manifest's changes; hostile names are inert; the public tables equal the
warehouse where published."""

from __future__ import annotations

import hashlib
import math
from dataclasses import replace

import openpyxl
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa

from extracts_fixtures import (  # noqa: F401
    HOSTILE_NAMES,
    PERIOD,
    correct_one_enterprise,
    folder_digests,
    loaded,
    loaded_templates,
    manifest,
    province,
    read_csv,
    read_parquet,
)
from techreform.extracts import PeriodNotReady, extract_period
from techreform.extracts.tables import PUBLIC_TABLES, TABLES
from techreform.forms import ENTERPRISE_MONTHLY, PROJECT_MONTHLY
from techreform.indicators.catalogue import load_catalogue
from techreform.warehouse import engine_for

pytestmark = pytest.mark.slow


def warehouse_frame(settings, sql: str, **params) -> pd.DataFrame:
    engine = sa.create_engine(settings.warehouse_url)
    with engine.connect() as conn:
        result = conn.execute(sa.text(sql), params)
        frame = pd.DataFrame(result.fetchall(), columns=list(result.keys()))
    engine.dispose()
    return frame


def extract(settings, **kwargs):
    return extract_period(engine_for(settings.warehouse_url), settings, PERIOD, **kwargs)


def revision_folder(settings, n: int):
    return settings.output_dir / "extracts" / PERIOD / f"r{n}"


def test_the_extract_reads_back_as_the_bureau_reads_it_and_equals_the_warehouse(loaded):
    result = extract(loaded)
    assert result["written"] and result["revision"] == 1
    folder = revision_folder(loaded, 1)

    # Parquet: the documented types, codes as strings, Chinese names in the schema metadata.
    schema = pq.read_schema(folder / "enterprise_monthly.parquet")
    assert schema.field("uscc").type == pa.string() and schema.field("region_code").type == pa.string()
    assert schema.field("revenue").type == pa.float64() and schema.field("employees").type == pa.int64()
    assert schema.field("revenue").metadata[b"name_zh"].decode() == "主营业务收入"
    assert schema.field("revenue").metadata[b"unit"].decode() == "万元"
    assert "主营业务收入" in schema.metadata[b"columns_zh"].decode()
    dictionary = read_parquet(folder, "data_dictionary")
    for spec in TABLES:
        stated = dictionary[dictionary.table_name == spec.name].sort_values("position").set_index("column_name")["type"]
        stated = stated.to_dict()
        written = pq.read_schema(folder / f"{spec.name}.parquet")
        assert list(stated) == written.names, spec.name
        for name, type_ in stated.items():
            assert str(written.field(name).type).replace("double", "float64").replace("string", "string") == type_
    # every column of the form is in the dictionary, with the form's Chinese header and unit
    for form_ in (ENTERPRISE_MONTHLY, PROJECT_MONTHLY):
        rows = dictionary[dictionary.table_name == form_.name].set_index("column_name")
        for f in form_.fields:
            assert rows.loc[f.name, "name_zh"] == f.header_zh and rows.loc[f.name, "unit"] == f.unit

    # The enterprise rows equal the warehouse's accepted rows, number for number.
    facts = warehouse_frame(loaded, "select * from fct_enterprise_monthly where period = :p", p=PERIOD)
    parquet = read_parquet(folder, "enterprise_monthly").set_index("uscc").sort_index()
    facts = facts.set_index("uscc").sort_index()
    assert list(parquet.index) == list(facts.index) and len(parquet) > 40
    for column in ("gross_output", "value_added", "revenue", "profit", "techreform_investment", "energy_tce"):
        assert parquet[column].astype(float).tolist() == pytest.approx(facts[column].astype(float).tolist()), column
    assert parquet["review_status"].tolist() == facts["review_status"].tolist()
    assert parquet["soft_rule_ids"].tolist() == facts["soft_rule_ids"].tolist()
    assert (facts["profit"].astype(float) < 0).any(), "the province should have a loss-making enterprise"

    # CSV: UTF-8 with BOM; pandas reads it with utf-8-sig; codes keep their zeros; numbers are numbers.
    assert (folder / "enterprise_monthly.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    csv_frame = pd.read_csv(
        folder / "enterprise_monthly.csv",
        encoding="utf-8-sig",
        dtype={"uscc": str, "region_code": str, "industry_code": str, "prefecture_code": str},
    )
    assert csv_frame["uscc"].tolist() == sorted(facts.index)
    assert csv_frame.set_index("uscc")["revenue"].tolist() == pytest.approx(facts["revenue"].astype(float).tolist())
    assert csv_frame["profit"].dtype == float

    # The workbook: a sheet per table, header styled and frozen, filters, thousands separators.
    book = openpyxl.load_workbook(folder / "extract.xlsx")
    assert book.sheetnames == [spec.name for spec in TABLES]
    sheet = book["enterprise_monthly"]
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref
    assert sheet.cell(1, 1).font.b and sheet.cell(1, 1).value.startswith("报告期")
    revenue_col = [c.value.split("\n")[-1] for c in sheet[1]].index("revenue") + 1
    values = [sheet.cell(r, revenue_col).value for r in range(2, sheet.max_row + 1)]
    assert values == pytest.approx(facts["revenue"].astype(float).tolist())
    assert sheet.cell(2, revenue_col).number_format == "#,##0.00"
    assert sheet.column_dimensions["B"].width > 10

    # Indicators: every indicator of the catalogue, by province, prefecture and sector group.
    indicators = read_parquet(folder, "indicators")
    assert set(indicators.indicator_code) == {i.code for i in load_catalogue(None)}
    assert set(indicators.level) == {"province", "prefecture", "sector_group"}
    assert set(indicators.status) <= {"met", "on_track", "lagging", "no_target", "no_data"}
    province = indicators[(indicators.level == "province")].set_index("indicator_code")
    facts_ind = warehouse_frame(
        loaded, "select indicator_code, value from fct_indicator where period = :p and level = 'province'", p=PERIOD
    ).set_index("indicator_code")
    for code, value in facts_ind["value"].items():
        if value is not None and not (isinstance(value, float) and math.isnan(value)):
            assert province.loc[code, "value"] == pytest.approx(float(value)), code

    # Supervision and quality.
    lights = read_parquet(folder, "supervision")
    facts_lights = warehouse_frame(
        loaded, "select project_code, light from sup_project_light where period = :p", p=PERIOD
    )
    assert dict(zip(lights.project_code, lights.light, strict=True)) == dict(
        zip(facts_lights.project_code, facts_lights.light, strict=True)
    )
    flagged = lights[lights.light != "green"]
    assert flagged.case_id.notna().all()
    quality = read_csv(folder, "quality")
    e1 = quality[quality.form == "E1"]
    outcomes = warehouse_frame(
        loaded,
        "select count(*) as n, sum(case when outcome = 'quarantined' then 1 else 0 end) "
        "as q from etl_row_outcome where form = 'E1' and period = :p",
        p=PERIOD,
    )
    assert e1.received.astype(int).sum() == int(outcomes.n[0])
    assert e1.quarantined.astype(int).sum() == int(outcomes.q[0])
    assert quality.rules_broken.str.contains("E1-").any()

    # The manifest: every file with its rows, bytes and sha256.
    listed = manifest(folder)
    assert listed["period"] == PERIOD and listed["revision"] == 1 and listed["pipeline_version"]
    on_disk = {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()} - {"manifest.json"}
    assert {f["name"] for f in listed["files"]} == on_disk
    for entry in listed["files"]:
        data = (folder / entry["name"]).read_bytes()
        assert entry["bytes"] == len(data) and entry["sha256"] == hashlib.sha256(data).hexdigest()
    assert next(f for f in listed["files"] if f["name"] == "enterprise_monthly.parquet")["rows"] == len(facts)
    for spec in PUBLIC_TABLES:
        assert (folder / "public" / f"{spec.name}.parquet").exists()


def test_hostile_names_are_inert_in_csv_and_xlsx_and_numbers_stay_numbers(loaded):
    extract(loaded)
    folder = revision_folder(loaded, 1)
    parquet = read_parquet(folder, "enterprise_monthly")
    planted = [n for n in HOSTILE_NAMES if n in set(parquet.enterprise_name)]
    assert len(planted) >= 4, "the hostile names should pass validation unchanged"
    text = (folder / "enterprise_monthly.csv").read_bytes().decode("utf-8-sig")
    names = read_csv(folder, "enterprise_monthly").enterprise_name.tolist()
    for name in planted:
        assert "'" + name in names
    for name in names:
        assert not name.startswith(("=", "+", "-", "@", "\t", "\r")), name
    assert ",-" in text  # a negative profit is written as a number
    book = openpyxl.load_workbook(folder / "extract.xlsx")
    sheet = book["enterprise_monthly"]
    header = [c.value.split("\n")[-1] for c in sheet[1]]
    name_col, profit_col = header.index("enterprise_name") + 1, header.index("profit") + 1
    for row in range(2, sheet.max_row + 1):
        cell = sheet.cell(row, name_col)
        assert cell.data_type == "s" and not str(cell.value).startswith(("=", "+", "-", "@", "\t", "\r"))
        assert isinstance(sheet.cell(row, profit_col).value, int | float)
    assert any(sheet.cell(r, profit_col).value < 0 for r in range(2, sheet.max_row + 1))


def test_a_rerun_writes_nothing_and_a_correction_writes_r2_beside_an_untouched_r1(loaded):
    first = extract(loaded)
    r1 = revision_folder(loaded, 1)
    before = folder_digests(r1)

    again = extract(loaded)
    assert not again["written"] and again["revision"] == 1
    assert sorted(p.name for p in r1.parent.iterdir()) == ["r1"]
    assert folder_digests(r1) == before

    uscc, revenue = correct_one_enterprise(loaded)
    second = extract(loaded)
    assert second["written"] and second["revision"] == 2
    assert folder_digests(r1) == before
    r2 = revision_folder(loaded, 2)
    changes = manifest(r2)["changes"]
    assert changes["since_revision"] == 1
    enterprise = changes["tables"]["enterprise_monthly"]
    assert {"key": {"uscc": uscc}, "columns": ["revenue"]} in enterprise["changed_rows"]
    assert enterprise["added"] == 0 and enterprise["removed"] == 0
    assert read_parquet(r2, "enterprise_monthly").set_index("uscc").loc[uscc, "revenue"] == pytest.approx(revenue)
    assert manifest(r2)["content_sha256"] != manifest(r1)["content_sha256"]
    assert first["manifest_sha256"] != second["manifest_sha256"]

    third = extract(loaded)
    assert not third["written"] and third["revision"] == 2
    revisions = sa.create_engine(loaded.warehouse_url)
    with revisions.connect() as conn:
        recorded = (
            conn.execute(
                sa.text("select revision from ext_revision where period = :p order by revision"), {"p": PERIOD}
            )
            .scalars()
            .all()
        )
    revisions.dispose()
    assert recorded == [1, 2]


def test_the_public_tables_equal_the_warehouse_where_published_and_hide_small_cells(loaded):
    extract(loaded)
    folder = revision_folder(loaded, 1) / "public"
    public = pd.read_csv(
        folder / "aggregates.csv", encoding="utf-8-sig", dtype={"prefecture_code": str}, keep_default_na=False
    )
    facts = warehouse_frame(
        loaded,
        "select f.uscc, f.prefecture_code, i.sector_group, f.revenue, f.profit "
        "from fct_enterprise_monthly as f join dim_industry as i "
        "on i.division = substr(f.industry_code, 1, 2) where f.period = :p",
        p=PERIOD,
    )
    counts = facts.groupby(["prefecture_code", "sector_group"]).size()
    sums = facts.groupby(["prefecture_code", "sector_group"])["revenue"].sum()
    revenue = public[public.measure == "revenue"]
    interior = revenue[(revenue.prefecture_code != "620000") & (revenue.sector_group != "合计")]
    assert len(interior) == 14 * 10
    published = interior[interior.suppressed == ""]
    assert len(published) and (interior.suppressed != "").any()
    for row in interior.itertuples():
        n = int(counts.get((row.prefecture_code, row.sector_group), 0))
        if 1 <= n < 3:
            assert row.suppressed == "primary", row
        if row.suppressed == "":
            assert float(row.value) == pytest.approx(
                float(sums.get((row.prefecture_code, row.sector_group), 0.0)), abs=0.01
            )
        else:
            assert row.value == ""
    total = revenue[(revenue.prefecture_code == "620000") & (revenue.sector_group == "合计")].iloc[0]
    if total.suppressed == "":
        assert float(total.value) == pytest.approx(facts.revenue.astype(float).sum(), abs=0.01)
    enterprises = public[(public.measure == "enterprises") & (public.suppressed == "")]
    for row in enterprises.itertuples():
        if row.prefecture_code != "620000" and row.sector_group != "合计":
            assert float(row.value) == int(counts.get((row.prefecture_code, row.sector_group), 0))


def test_no_extract_before_the_period_is_validated_and_the_cli_reports_the_revision(loaded, capsys, monkeypatch):
    with pytest.raises(PeriodNotReady, match="2013-03"):
        extract_period(engine_for(loaded.warehouse_url), loaded, "2013-03")
    from techreform import cli

    monkeypatch.setenv("TECHREFORM_DATA_DIR", str(loaded.data_dir))
    monkeypatch.setenv("TECHREFORM_WAREHOUSE_URL", loaded.warehouse_url)
    monkeypatch.setenv("TECHREFORM_EXTRACT_URL", str(loaded.data_dir / "elsewhere"))
    assert cli.main(["extract", "--period", PERIOD]) == 0
    assert "r1 written" in capsys.readouterr().out
    assert (loaded.data_dir / "elsewhere" / PERIOD / "r1" / "manifest.json").exists()
    assert cli.main(["extract", "--period", PERIOD]) == 0
    assert "unchanged" in capsys.readouterr().out
    assert cli.main(["extract", "--period", "2013-03"]) == 1
    assert "no extract before" in capsys.readouterr().err


def test_the_disclosure_thresholds_come_from_the_configuration(loaded):
    strict = replace(loaded).with_options(
        validation={"hard_fail_threshold": 1.0}, extracts={"min_enterprises": 5, "dominance_share": 0.6}
    )
    extract(strict)
    listed = manifest(revision_folder(loaded, 1))
    assert listed["disclosure"]["min_enterprises"] == 5 and listed["disclosure"]["dominance_share"] == 0.6
    public = pd.read_csv(
        revision_folder(loaded, 1) / "public" / "aggregates.csv",
        encoding="utf-8-sig",
        dtype={"prefecture_code": str},
        keep_default_na=False,
    )
    counts = public[(public.measure == "enterprises") & (public.suppressed == "")]
    interior = counts[(counts.prefecture_code != "620000") & (counts.sector_group != "合计")]
    assert not ((interior.value.astype(float) >= 1) & (interior.value.astype(float) < 5)).any()
    # the default thresholds publish a different table: a new revision
    assert extract(loaded)["revision"] == 2
