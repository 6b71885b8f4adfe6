"""The pure core of ingestion pinned directly (issue 16, mutation testing of ``techreform.ingest``):
headers mapped to fields, rows parsed into staged and unparsed rows with their spreadsheet numbers, the
cells as received, the folder's period or year for forms whose files need not carry it, and the one-line
messages and raw-zone names."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from techreform.forms import ENTERPRISE_ANNUAL as A1
from techreform.forms import ENTERPRISE_MONTHLY as E1
from techreform.forms import PROJECT_MONTHLY as P1
from techreform.ingest import (
    FileOutcome,
    IngestSummary,
    _cell_as_received,
    log_line,
    map_headers,
    parse_rule_id,
    parse_table,
    raw_zone_name,
    row_as_received,
)
from techreform.periods import Period
from techreform.readers import RawTable, UnreadableFile

USCC = "91620100MA74ABCDEU"


def _table(headers, rows, start=2):
    return RawTable(Path("E1_620100_2013-06.csv"), "utf-8", list(headers), [(start + i, r) for i, r in enumerate(rows)])


def test_the_parse_rule_of_a_form_is_its_code_with_h00():
    assert parse_rule_id(E1) == "E1-H00"
    assert parse_rule_id(P1) == "P1-H00"


def test_headers_map_by_canonical_name_chinese_header_or_header_with_its_own_unit():
    mapping, extras, problems = map_headers(
        E1, ["统一社会信用代码", "enterprise_name", "工业总产值(万元)", "填表人", "", "利润总额(元)"]
    )
    assert mapping == {0: "uscc", 1: "enterprise_name", 2: "gross_output"}
    assert extras == ["填表人", "利润总额(元)"]  # a wrong unit is not the field; an empty header is nothing
    missing = [f for f in E1.required_fields if f.name not in mapping.values()]
    assert problems == [f"缺少必填列 {f.label} / required column {f.name} is missing" for f in missing]


def test_a_header_with_a_unit_of_an_unknown_name_is_an_extra_column():
    mapping, extras, _ = map_headers(E1, ["填表人(万元)", "(万元)"])
    assert mapping == {} and extras == ["填表人(万元)", "(万元)"]


def test_a_field_given_twice_is_refused_naming_the_field():
    mapping, extras, problems = map_headers(E1, ["uscc", "备注", "统一社会信用代码"])
    assert mapping == {}
    assert extras == ["备注"]
    assert problems == [f"字段 {E1.field('uscc').label} 出现了不止一列 / the column appears twice"]


def test_every_field_present_gives_no_problem_and_optional_fields_may_be_missing():
    headers = [f.header_zh for f in E1.fields if f.required]
    mapping, extras, problems = map_headers(E1, headers)
    assert problems == [] and extras == []
    assert sorted(mapping.values()) == sorted(f.name for f in E1.required_fields)


def _e1_row(**overrides):
    values = {f.name: "" for f in E1.fields}
    values.update(
        uscc=USCC,
        enterprise_name="兰州石化",
        region_code="620102",
        industry_code="2511",
        period="2013-06",
        gross_output="1,234.5",
        value_added="10",
        revenue="20",
        profit="-1",
        employees="100",
        techreform_investment="5",
        energy_tce="7",
    )
    values.update(overrides)
    return [values[f.name] for f in E1.fields]


def test_rows_are_parsed_typed_with_their_spreadsheet_number_and_the_cells_as_received():
    headers = [*E1.field_names, "填表人"]
    table = _table(headers, [[*_e1_row(), "张三"], [*_e1_row(uscc="91620100MA74ABCDE0"), "李四"]], start=3)
    parsed = parse_table(E1, table, Period(2013, 6))
    assert parsed.rows_received == 2
    assert parsed.extra_columns == ["填表人"]
    assert parsed.unparsed == []
    first = parsed.staged[0]
    assert first["source_row"] == 3 and parsed.staged[1]["source_row"] == 4
    assert first["uscc"] == USCC and first["period"] == "2013-06"
    assert float(first["gross_output"]) == 1234.5 and first["employees"] == 100
    assert first["rd_expense"] is None
    assert first["raw_json"] == ""  # a staged row carries no JSON: it is read back from the raw zone
    received = row_as_received(table.headers, table.rows[0][1])
    raw = json.loads(received)
    assert raw["gross_output"] == "1,234.5" and raw["填表人"] == "张三"
    assert set(first) == {*E1.field_names, "source_row", "raw_json"}
    assert "\\u" not in received  # Chinese kept readable


def test_a_short_row_is_padded_with_nulls_and_a_cell_that_does_not_parse_names_field_and_reason():
    headers = list(E1.field_names)
    short = _e1_row(revenue="12,3a4", employees="x")[:-3]
    parsed = parse_table(E1, _table(headers, [short, _e1_row(uscc="")]))
    assert len(parsed.unparsed) == 1 and len(parsed.staged) == 1
    bad = parsed.unparsed[0]
    assert bad["source_row"] == 2
    assert bad["record_key"] == USCC
    assert bad["fields"] == "revenue,employees"
    revenue, employees = bad["messages"].split("；")
    assert revenue.startswith(f"{E1.field('revenue').label}：") and "12,3a4" in revenue
    assert employees.startswith(f"{E1.field('employees').label}：")
    assert json.loads(bad["raw_json"])["ecommerce_sales"] is None  # padded
    assert parsed.staged[0]["uscc"] is None and parsed.staged[0]["source_row"] == 3


def test_the_staged_rows_go_to_staging_as_the_columns_asked_for_with_the_delivery_constants():
    """The parsed rows are kept column by column: the staging insert's columns are the staged rows'
    values in the order asked, the delivery's constants for the columns the parser has not, None for a
    field the file lacks; a row that did not parse is not among them (ParsedFile.staged_columns)."""
    headers = [f for f in E1.field_names if f != "rd_expense"]

    def row(**overrides):
        return [v for f, v in zip(E1.field_names, _e1_row(**overrides)) if f != "rd_expense"]

    other = "91620100MA74ABCDE0"
    parsed = parse_table(E1, _table(headers, [row(), row(revenue="12,3a4"), row(uscc=other)], start=3), Period(2013, 6))
    names = ["delivery_period", "file_sha256", "source_row", "raw_json", "uscc", "rd_expense", "period"]
    constants = {"delivery_period": "2013-06", "file_sha256": "f" * 64, "raw_json": ""}
    columns = parsed.staged_columns(names, constants)
    assert parsed.rows_staged == 2 and [u["source_row"] for u in parsed.unparsed] == [4]
    assert list(zip(*columns)) == [
        ("2013-06", "f" * 64, 3, "", USCC, None, "2013-06"),
        ("2013-06", "f" * 64, 5, "", other, None, "2013-06"),
    ]
    assert all(len(column) == 2 for column in columns)
    assert list(zip(*columns)) == [tuple({**constants, **r}.get(n) for n in names) for r in parsed.staged]
    empty = parse_table(E1, _table(headers, [row(revenue="x")]))
    assert empty.staged_columns(names, constants) == [[] for _ in names] and empty.rows_staged == 0
    assert empty.staged == []


def test_an_unparsed_row_without_a_key_has_an_empty_record_key():
    parsed = parse_table(E1, _table(E1.field_names, [_e1_row(uscc="", revenue="abc")]))
    assert parsed.unparsed[0]["record_key"] == ""


def test_a_file_missing_a_required_column_is_unreadable_with_every_problem_in_one_line():
    with pytest.raises(UnreadableFile) as excinfo:
        parse_table(E1, _table(["uscc", "企业名称"], [[USCC, "x"]]))
    missing = [f for f in E1.required_fields if f.name not in ("uscc", "enterprise_name")]
    assert str(excinfo.value) == "；".join(
        f"缺少必填列 {f.label} / required column {f.name} is missing" for f in missing
    )


def test_cells_as_received_keep_dates_as_iso_text_and_other_values_unchanged():
    assert _cell_as_received(dt.datetime(2013, 6, 1)) == "2013-06-01T00:00:00"
    assert _cell_as_received(dt.date(2013, 6, 1)) == "2013-06-01"
    assert _cell_as_received(12.5) == 12.5
    row = _e1_row(period=dt.datetime(2013, 6, 1), employees=100)
    table = _table(E1.field_names, [row])
    parsed = parse_table(E1, table)
    raw = json.loads(row_as_received(table.headers, table.rows[0][1]))
    assert raw["period"] == "2013-06-01T00:00:00" and raw["employees"] == 100
    assert parsed.staged[0]["period"] == "2013-06"


def _p1_row(**overrides):
    values = {f.name: "" for f in P1.fields}
    values.update(
        project_code="2013-620102-25-03-000001",
        project_name="改造",
        uscc=USCC,
        region_code="620102",
        industry_code="2511",
        key_project="是",
        planned_total_investment="100",
        planned_start="2013-01",
        planned_completion="2014-12",
        annual_plan_investment="50",
        ytd_investment="10",
        cumulative_investment="10",
        status="在建",
    )
    values.update(overrides)
    return values


def test_a_p1_row_without_a_period_takes_the_folders_and_one_with_a_period_keeps_it():
    without = [f.name for f in P1.fields if f.name != "period"]
    parsed = parse_table(P1, _table(without, [[_p1_row()[n] for n in without]]), Period(2013, 6))
    assert parsed.staged[0]["period"] == "2013-06"
    parsed = parse_table(P1, _table(without, [[_p1_row()[n] for n in without]]), "2013-07")
    assert parsed.staged[0]["period"] == "2013-07"
    with_period = list(P1.field_names)
    parsed = parse_table(P1, _table(with_period, [[_p1_row(period="2013-05")[n] for n in with_period]]), "2013-06")
    assert parsed.staged[0]["period"] == "2013-05"
    # an empty period cell takes the folder's; without a folder there is none
    parsed = parse_table(P1, _table(with_period, [[_p1_row()[n] for n in with_period]]), "2013-06")
    assert parsed.staged[0]["period"] == "2013-06"
    parsed = parse_table(P1, _table(without, [[_p1_row()[n] for n in without]]), None)
    assert parsed.staged[0].get("period") is None


def test_a_p1_period_that_does_not_parse_is_not_replaced_by_the_folders():
    headers = list(P1.field_names)
    parsed = parse_table(P1, _table(headers, [[_p1_row(period="六月")[n] for n in headers]]), "2013-06")
    assert parsed.staged == []
    assert parsed.unparsed[0]["fields"] == "period"
    assert parsed.unparsed[0]["record_key"] == "2013-620102-25-03-000001"


def test_an_e1_row_never_takes_the_folders_period():
    headers = list(E1.field_names)
    parsed = parse_table(E1, _table(headers, [_e1_row(period="")]), "2013-06")
    assert parsed.staged[0]["period"] is None


def test_an_a1_row_without_a_year_takes_the_folders_year_and_one_with_a_year_keeps_it():
    names = [f.name for f in A1.fields if f.required]
    row = {n: "" for n in A1.field_names}
    row.update({n: "1" for n in names if A1.field(n).type in ("integer", "decimal")})
    row.update({n: "是" for n in names if A1.field(n).type == "boolean"})
    for n in names:
        if A1.field(n).type == "enum":
            row[n] = A1.field(n).choices[0]
        if A1.field(n).type == "text":
            row[n] = "x"
    row["uscc"] = USCC
    parsed = parse_table(A1, _table(names, [[row[n] for n in names]]), "2014-12")
    assert parsed.unparsed == [], parsed.unparsed
    assert parsed.staged[0]["year"] == 2014
    headers = [*names, "year"]
    parsed = parse_table(A1, _table(headers, [[*[row[n] for n in names], "2013"]]), "2014-12")
    assert parsed.staged[0]["year"] == 2013
    parsed = parse_table(A1, _table(headers, [[*[row[n] for n in names], "二〇一三"]]), "2014-12")
    assert parsed.staged == [] and parsed.unparsed[0]["fields"] == "year"
    parsed = parse_table(A1, _table(names, [[row[n] for n in names]]), None)
    assert parsed.staged[0].get("year") is None


def test_a_log_line_is_one_line_without_nul_and_cut_at_its_limit_with_an_ellipsis():
    assert log_line("a\nb\r\nc\t d  e") == "a b c d e"
    assert log_line("a\x00b") == "a\\x00b"
    assert log_line("x" * 600) == "x" * 600
    assert log_line("x" * 601) == "x" * 599 + "…"
    assert log_line("abcdef", limit=5) == "abcd…"
    assert log_line("bad \udcff name") == "bad \\udcff name"


def test_a_raw_zone_name_is_unchanged_up_to_its_byte_limit_then_cut_keeping_the_suffix():
    assert raw_zone_name("E1.csv") == "E1.csv"
    name = "x" * 196 + ".csv"  # 200 bytes
    assert raw_zone_name(name) == name
    longer = "x" * 197 + ".csv"
    cut = raw_zone_name(longer)
    assert cut.endswith("….csv") and len(cut.encode()) <= 200 and len(cut.encode()) > 195
    chinese = "报" * 70 + ".xlsx"  # 215 bytes
    cut = raw_zone_name(chinese)
    assert cut == "报" * 64 + "…" + ".xlsx"
    assert raw_zone_name("abcdefgh", max_bytes=5) == "ab…"  # no suffix: the whole name is cut
    assert raw_zone_name("abcdefgh.12345678901", max_bytes=8) == "abcde…"  # a suffix over 10 is no suffix
    assert raw_zone_name("abcdefgh.1234567890", max_bytes=15) == "a….1234567890"


def test_an_ingest_summary_lists_its_files_as_dicts():
    outcome = FileOutcome("a.csv", "ab", "loaded", rows_received=2, rows_staged=1, rows_unparsed=1, message="m")
    assert IngestSummary("E1", "2013-06", [outcome]).as_dict() == {
        "form": "E1",
        "period": "2013-06",
        "files": [
            {
                "file_name": "a.csv",
                "sha256": "ab",
                "status": "loaded",
                "rows_received": 2,
                "rows_staged": 1,
                "rows_unparsed": 1,
                "extra_columns": [],
                "message": "m",
            }
        ],
    }


def test_a_cut_raw_zone_name_keeps_the_suffix_after_the_last_dot():
    name = "E1.620100." + "x" * 200 + ".csv"
    cut = raw_zone_name(name)
    assert cut.startswith("E1.620100.xxx") and cut.endswith("x….csv") and len(cut.encode()) <= 200
