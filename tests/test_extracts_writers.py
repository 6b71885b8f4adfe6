"""The writers on a small table, without a warehouse: formula-like text is inert in CSV and XLSX and
numbers stay numbers, codes keep their leading zeros, the Parquet schema is the documented one, and the
content digest ignores row order and the time of writing but sees every value."""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from techreform.extracts.tables import (
    DICTIONARY_TABLE,
    ENTERPRISE_TABLE,
    TABLES,
    Column,
    TableSpec,
    data_dictionary,
    typed,
)
from techreform.extracts.writers import content_digest, csv_bytes, inert, parquet_bytes, xlsx_bytes
from techreform.forms import ENTERPRISE_MONTHLY, PROJECT_MONTHLY

SPEC = TableSpec(
    "t",
    "测试表",
    "Test",
    ("code",),
    (
        Column("code", "代码", "Code", "string"),
        Column("name", "名称", "Name", "string"),
        Column("amount", "金额", "Amount", "float64", "万元"),
        Column("count", "个数", "Count", "int64", "个"),
        Column("flag", "标志", "Flag", "bool"),
    ),
)
HOSTILE = ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\t=1", "\r=1", "正常名称", "a=b"]


def frame() -> pd.DataFrame:
    return typed(
        SPEC,
        pd.DataFrame(
            {
                "code": [f"00{k}" for k in range(len(HOSTILE))],
                "name": HOSTILE,
                "amount": [-1234567.5, 0.25, None, 1e6, 2.0, 3.0, 4.0, 5.0],
                "count": [1, None, 3, 4, 5, 6, 7, 8],
                "flag": [1, 0, None, 1, 0, 1, 0, 1],
            }
        ),
    )


def test_formula_like_text_is_inert_in_csv_and_numbers_stay_numbers():
    text = csv_bytes(SPEC, frame()).decode("utf-8")
    assert text.startswith("\ufeff")
    read = pd.read_csv(
        io.BytesIO(csv_bytes(SPEC, frame())), encoding="utf-8-sig", dtype={"code": str}, keep_default_na=False
    )
    assert read["name"].tolist() == ["'=1+1", "'+SUM(A1)", "'-2+3", "'@cmd", "'\t=1", "'\r=1", "正常名称", "a=b"]
    assert read["code"].tolist()[0] == "000"
    numbers = pd.read_csv(io.BytesIO(csv_bytes(SPEC, frame())), encoding="utf-8-sig")
    assert numbers["amount"].tolist()[0] == -1234567.5 and numbers["count"].tolist()[0] == 1


def test_formula_like_text_is_an_inert_string_cell_in_the_workbook(tmp_path: Path):
    path = tmp_path / "t.xlsx"
    path.write_bytes(xlsx_bytes([(SPEC, frame())]))
    sheet = openpyxl.load_workbook(path)["t"]
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == "A1:E9"
    for row, original in enumerate(HOSTILE, start=2):
        cell = sheet.cell(row, 2)
        # xlsxwriter escapes a carriage return as _x000D_ (OOXML), which Excel reads back as CR
        assert cell.data_type == "s" and cell.value.replace("_x000D_", "\r") == inert(original)
        assert not cell.value.startswith(("=", "+", "-", "@", "\t", "\r"))
    amount = sheet.cell(2, 3)
    assert amount.value == -1234567.5 and amount.data_type == "n" and amount.number_format == "#,##0.00"
    assert sheet.cell(2, 4).number_format == "#,##0" and sheet.cell(2, 1).value == "000"
    assert sheet.cell(1, 3).value == "金额\namount" and sheet.cell(1, 3).font.b


def test_parquet_has_the_explicit_schema_with_chinese_names():
    table = pq.read_table(io.BytesIO(parquet_bytes(SPEC, frame())))
    assert table.schema.types == [pa.string(), pa.string(), pa.float64(), pa.int64(), pa.bool_()]
    assert table.schema.field("amount").metadata[b"name_zh"].decode() == "金额"
    assert table.schema.metadata[b"title_zh"].decode() == "测试表"
    assert table.column("code").to_pylist()[0] == "000" and table.column("name").to_pylist()[0] == "=1+1"
    assert table.column("count").to_pylist()[1] is None


def test_the_content_digest_ignores_row_order_but_sees_every_value():
    original = frame()
    shuffled = original.sample(frac=1, random_state=3).reset_index(drop=True)
    assert content_digest(SPEC, original) == content_digest(SPEC, shuffled)
    changed = original.copy()
    changed.loc[3, "amount"] = 1e6 + 0.01
    assert content_digest(SPEC, changed) != content_digest(SPEC, original)


def test_the_dictionary_is_generated_from_the_forms_and_table_definitions():
    dictionary = data_dictionary()
    for spec in TABLES:
        assert dictionary[dictionary.table_name == spec.name].column_name.tolist() == spec.column_names
    e1 = dictionary[dictionary.table_name == ENTERPRISE_TABLE.name].set_index("column_name")
    assert set(ENTERPRISE_MONTHLY.field_names) <= set(e1.index)
    assert e1.loc["revenue", "name_zh"] == "主营业务收入" and e1.loc["revenue", "type"] == "float64"
    assert e1.loc["uscc", "type"] == "string" and e1.loc["employees", "type"] == "int64"
    p1 = dictionary[dictionary.table_name == PROJECT_MONTHLY.name].set_index("column_name")
    assert p1.loc["key_project", "type"] == "bool" and p1.loc["planned_total_investment", "unit"] == "万元"
    assert (dictionary.table_name == "public/aggregates").any()
    assert DICTIONARY_TABLE.name in set(dictionary.table_name)


def test_the_dag_extracts_after_the_summary():
    from airflow.dag_processing.dagbag import DagBag

    dag = DagBag(str(Path(__file__).resolve().parents[1] / "dags")).dags["techreform_monthly"]
    extract = dag.get_task("extract")
    assert "summarise" in extract.upstream_task_ids
    for before in ("quality_gate", "compute_indicators", "supervise", "validate_load_enterprises"):
        assert before in {t.task_id for t in extract.get_flat_relatives(upstream=True)}
