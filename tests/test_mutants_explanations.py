"""Explanations (核实说明) on a tiny warehouse, pinned directly (issue 16, mutation testing of
``techreform.validation.explanations``): which rules an explanation can answer, the record key it names
for every form, the period it explains, the files read (local or from an object store), every refusal
as the reporting unit reads it, what is stored and replaced. ``tests/test_validation_explanations.py``
reaches them through the GX suites (seconds per test)."""

from __future__ import annotations

import dataclasses

import pytest
import sqlalchemy as sa
from upath import UPath

from techreform.forms import FORMS
from techreform.readers import UnreadableFile
from techreform.validation import explanations
from techreform.validation.explanations import (
    _explained_period,
    _month,
    _record_key,
    explained_keys,
    load_folder,
    read_file,
    soft_rules,
    sync_explanations,
)
from validation_fixtures import EXPLANATION_HEADERS, prepare_warehouse, uscc, write_explanations

E1, P1, R1, S1, A1, Q1, G1 = (FORMS[c] for c in ("E1", "P1", "R1", "S1", "A1", "Q1", "G1"))
PROJECT = "2013-620102-33-03-000001"
STORED = "select delivery_period, file_name, source_row, form, record_key, period, rule_id, explanation, confirmed_by"


@pytest.fixture
def engine(settings):
    return prepare_warehouse(settings.warehouse_url)


def _stored(engine) -> list[tuple]:
    with engine.connect() as conn:
        rows = conn.execute(sa.text(f"{STORED} from dim_explanation order by delivery_period, file_name, source_row"))
        return [tuple(r) for r in rows]


def test_only_the_soft_rules_of_a_forms_suite_can_be_explained():
    assert soft_rules(E1) == {f"E1-S{n:02d}" for n in range(1, 11)}
    assert soft_rules(P1) == {f"P1-S{n:02d}" for n in range(1, 6)}
    assert soft_rules(R1) == set()  # a suite of hard rules only
    assert soft_rules(S1) == set()  # no suite


def test_the_record_key_is_the_forms_key_without_its_period_with_choices_read_by_their_chinese_name():
    assert _record_key(E1, {"uscc": f" {uscc(1)} ", "period": "x"}) == uscc(1)
    assert _record_key(P1, {"project_code": PROJECT}) == PROJECT
    assert _record_key(Q1, {"uscc": uscc(1), "product_code": "钢材"}) == f"{uscc(1)}/steel_products_total"
    assert _record_key(Q1, {"uscc": uscc(1), "product_code": "steel_plate_strip"}) == f"{uscc(1)}/steel_plate_strip"
    assert _record_key(G1, {"item_type": "循环经济示范园区", "item_id": "G-7"}) == "circular_park/G-7"
    assert _record_key(A1, {"uscc": uscc(2)}) == uscc(2)


def test_a_record_key_with_a_missing_or_blank_part_is_none():
    assert _record_key(E1, {}) is None
    assert _record_key(E1, {"uscc": "  "}) is None
    assert _record_key(Q1, {"uscc": uscc(1), "product_code": None}) is None
    assert _record_key(Q1, {"uscc": None, "product_code": "钢材"}) is None
    assert _record_key(G1, {"item_type": "循环经济示范园区", "item_id": ""}) is None


def test_the_period_explained_is_a_month_or_for_a_yearly_form_a_bare_year_meaning_its_december():
    assert _explained_period(A1, "2013") == "2013-12"
    assert _explained_period(A1, " 2013 ") == "2013-12"
    assert _explained_period(A1, 2013) == "2013-12"
    assert _explained_period(A1, "2013年6月") == "2013-06"  # read, and refused by load_folder
    assert _explained_period(A1, "20131") is None
    assert _explained_period(A1, None) is None
    assert _explained_period(E1, "2013") is None  # a monthly form names a month
    assert _explained_period(E1, "201306") == "2013-06"
    assert _explained_period(E1, "2013-13") is None
    assert _month("2013年6月") == "2013-06" and _month("不是月份") is None and _month(None) is None


def test_a_local_file_is_read_under_chinese_or_canonical_headers_with_missing_columns_null(tmp_path):
    path = tmp_path / "说明.csv"
    write_explanations(
        path,
        [("u1", "E1-S01", "说明一", "张三", "甲"), ("u2", "E1-S02", "", "", "乙")],
        headers=[" uscc", "审核规则 ", "核实说明", "confirmed_by", "备注"],
    )
    frame = read_file(path)
    assert frame.to_dict("records") == [
        {
            "uscc": "u1",
            "rule_id": "E1-S01",
            "explanation": "说明一",
            "confirmed_by": "张三",
            "备注": "甲",
            "source_row": 2,
            "project_code": None,
            "product_code": None,
            "item_type": None,
            "item_id": None,
            "period": None,
        },
        {
            "uscc": "u2",
            "rule_id": "E1-S02",
            "explanation": "",  # a CSV's empty cell is empty text
            "confirmed_by": "",
            "备注": "乙",
            "source_row": 3,
            "project_code": None,
            "product_code": None,
            "item_type": None,
            "item_id": None,
            "period": None,
        },
    ]


@pytest.fixture
def memory_folder(tmp_path):
    """A delivery folder of an object store (fsspec's memory file system), emptied afterwards."""
    folder = UPath(f"memory:///{tmp_path.name}/explanations/2013-07")
    folder.mkdir(parents=True, exist_ok=True)
    yield folder
    folder.fs.rm(f"/{tmp_path.name}", recursive=True)


def test_a_file_of_an_object_store_is_read_by_key_and_refused_unread_above_the_size_limit(
    tmp_path, memory_folder, monkeypatch
):
    local = tmp_path / "说明.csv"
    write_explanations(local, [(uscc(1), "", "2013-06", "E1-S01", "委托加工", "张三")])
    remote = memory_folder / "说明.csv"
    remote.write_bytes(local.read_bytes())
    assert read_file(remote).to_dict("records") == read_file(local).to_dict("records")
    assert read_file(remote)["explanation"].tolist() == ["委托加工"]
    size = len(local.read_bytes())
    import techreform.limits

    exactly = dataclasses.replace(techreform.limits.IngestLimits(), max_file_bytes=size)
    monkeypatch.setattr(techreform.limits, "IngestLimits", lambda: exactly)
    assert read_file(remote)["rule_id"].tolist() == ["E1-S01"]  # at the limit: read
    smaller = dataclasses.replace(exactly, max_file_bytes=size - 1)
    monkeypatch.setattr(techreform.limits, "IngestLimits", lambda: smaller)
    with pytest.raises(UnreadableFile) as refused:
        read_file(remote)
    assert str(refused.value) == f"说明.csv: {size} bytes, more than {size - 1}"
    short_cells = dataclasses.replace(exactly, max_cell_chars=3)  # the reader's limits are the same ones
    monkeypatch.setattr(techreform.limits, "IngestLimits", lambda: short_cells)
    with pytest.raises(UnreadableFile, match="3"):
        read_file(remote)


def test_every_refusal_names_the_file_and_row_and_what_to_correct(settings, engine):
    folder = settings.landing_dir / "explanations" / "2013-07"
    headers = [*EXPLANATION_HEADERS, "产品代码", "类别", "认定编号"]
    write_explanations(
        folder / "说明.csv",
        [
            (uscc(1), "", "2013-06", "E1-H01", "硬性", "张三", "", "", ""),  # a hard rule
            (uscc(1), "", "2013-06", "X1-S01", "未知表", "张三", "", "", ""),  # no such form
            (uscc(1), "", "2013-06", "E1-S1", "格式", "张三", "", "", ""),  # not a rule id
            (uscc(1), "", "2013-06", "", "空", "张三", "", "", ""),  # no rule
            (uscc(1), "", "2013-06", "S1-S01", "督办", "张三", "", "", ""),  # a form without soft rules
            ("", "", "2013-06", "E1-S01", "无代码", "张三", "", "", ""),
            (uscc(1), "", "", "Q1-S01", "无产品", "张三", "", "", ""),
            (uscc(1), "", "13月", "E1-S01", "坏月份", "张三", "", "", ""),
            (uscc(1), "", "", "E1-S01", "无月份", "张三", "", "", ""),
            (uscc(1), "", "2013-06", "A1-S01", "年报", "张三", "", "", ""),
            (uscc(1), "", "2013-06", "E1-S01", "", "张三", "", "", ""),
            (uscc(1), "", "2013-06", "E1-S01", "说明", " ", "", "", ""),
        ],
        headers=headers,
    )
    with engine.begin() as conn:
        outcome = load_folder(conn, folder)
    assert outcome.rows == 0
    assert outcome.problems == [
        "说明.csv 第2行：审核规则 “E1-H01” 不是可核实的核实性审核规则（如 E1-S01）",
        "说明.csv 第3行：审核规则 “X1-S01” 不是可核实的核实性审核规则（如 E1-S01）",
        "说明.csv 第4行：审核规则 “E1-S1” 不是可核实的核实性审核规则（如 E1-S01）",
        "说明.csv 第5行：审核规则 “” 不是可核实的核实性审核规则（如 E1-S01）",
        "说明.csv 第6行：审核规则 “S1-S01” 不是可核实的核实性审核规则（如 E1-S01）",
        "说明.csv 第7行：缺少统一社会信用代码",
        "说明.csv 第8行：缺少统一社会信用代码、产品代码",
        "说明.csv 第9行：报告期 “13月” 无效",
        "说明.csv 第10行：报告期 “” 无效",
        "说明.csv 第11行：报告期 “2013-06” 不是A1的报告期（应为年份或该年12月）",
        "说明.csv 第12行：核实说明或核实人为空",
        "说明.csv 第13行：核实说明或核实人为空",
    ]
    assert _stored(engine) == []


def test_good_rows_of_every_file_are_stored_with_where_they_came_from(settings, engine):
    folder = settings.landing_dir / "explanations" / "2013-07"
    headers = [*EXPLANATION_HEADERS, "产品代码", "类别", "认定编号"]
    write_explanations(
        folder / "b.csv",
        [
            (f" {uscc(1)}", "", "2013年6月", " e1-s01 ", " 委托加工 ", " 张三 ", "", "", ""),
            (uscc(2), "", "2013", "A1-S02", "年报说明", "李四", "", "", ""),
            (uscc(2), "", "2012-12", "A1-S01", "年报说明", "李四", "", "", ""),
            (uscc(3), "", "2013-06", "Q1-S02", "产量", "王五", "钢材", "", ""),
            ("", "", "2013-06", "G1-S01", "认定", "王五", "", "循环经济示范园区", "G-7"),
        ],
        headers=headers,
    )
    write_explanations(folder / "a.XLSX", [("", PROJECT, "201306", "P1-S02", "结转", "李四")])
    write_explanations(folder / "c.txt", [(uscc(9), "", "2013-06", "E1-S01", "不读", "张三")])
    with engine.begin() as conn:
        outcome = load_folder(conn, folder)
    assert outcome.rows == 6 and outcome.problems == []
    assert _stored(engine) == [
        ("2013-07", "a.XLSX", 2, "P1", PROJECT, "2013-06", "P1-S02", "结转", "李四"),
        ("2013-07", "b.csv", 2, "E1", uscc(1), "2013-06", "E1-S01", "委托加工", "张三"),
        ("2013-07", "b.csv", 3, "A1", uscc(2), "2013-12", "A1-S02", "年报说明", "李四"),
        ("2013-07", "b.csv", 4, "A1", uscc(2), "2012-12", "A1-S01", "年报说明", "李四"),
        ("2013-07", "b.csv", 5, "Q1", f"{uscc(3)}/steel_products_total", "2013-06", "Q1-S02", "产量", "王五"),
        ("2013-07", "b.csv", 6, "G1", "circular_park/G-7", "2013-06", "G1-S01", "认定", "王五"),
    ]


def test_a_folder_read_again_replaces_its_own_rows_only_and_sync_reads_every_month_folder(settings, engine):
    root = settings.landing_dir / "explanations"
    write_explanations(root / "2013-06" / "a.csv", [(uscc(1), "", "2013-05", "E1-S01", "五月", "张三")])
    write_explanations(
        root / "2013-07" / "a.csv",
        [(uscc(1), "", "2013-06", "E1-S01", "六月", "张三"), (uscc(2), "", "2013-06", "E1-H01", "硬", "张三")],
    )
    write_explanations(root / "2013-07" / "b.csv", [(uscc(2), "", "2013-06", "E1-S02", "六月", "张三")])
    write_explanations(root / "旧" / "a.csv", [(uscc(3), "", "2013-06", "E1-S01", "不读", "张三")])
    write_explanations(root / "2013-7" / "a.csv", [(uscc(4), "", "2013-06", "E1-S01", "不读", "张三")])
    with engine.begin() as conn:
        total = sync_explanations(conn, settings)
    assert total.rows == 3
    assert total.problems == ["a.csv 第3行：审核规则 “E1-H01” 不是可核实的核实性审核规则（如 E1-S01）"]
    assert [r[:3] for r in _stored(engine)] == [
        ("2013-06", "a.csv", 2),
        ("2013-07", "a.csv", 2),
        ("2013-07", "b.csv", 2),
    ]
    (root / "2013-07" / "b.csv").unlink()
    with engine.begin() as conn:
        again = load_folder(conn, root / "2013-07")
        assert again.rows == 1
        assert explained_keys(conn, "E1") == {(uscc(1), "2013-05", "E1-S01"), (uscc(1), "2013-06", "E1-S01")}
        assert explained_keys(conn, "P1") == set()
    assert [r[:3] for r in _stored(engine)] == [("2013-06", "a.csv", 2), ("2013-07", "a.csv", 2)]


def test_no_explanations_folder_reads_nothing(settings, engine):
    with engine.begin() as conn:
        total = sync_explanations(conn, settings)
    assert (total.rows, total.problems) == (0, [])
    assert explanations.FOLDER == "explanations"
