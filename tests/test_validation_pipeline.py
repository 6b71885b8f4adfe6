"""Validation through the real chain (landing files → ingest → validate → load), on SQLite and PostgreSQL:
stable outcomes on re-run, explanations turning exactly their query into ``explained``, completeness,
review receipts, Data Docs and the quality gate."""

from __future__ import annotations

import gc
import json
import weakref

import openpyxl
import pytest
import sqlalchemy as sa

from landing_files import e1_row, uscc_for, write_delivery
from techreform.forms import ENTERPRISE_MONTHLY as E1
from techreform.forms import ENTERPRISE_REGISTER as R1
from techreform.periods import Period
from techreform.pipeline import prepare_warehouse, process_form, review_period
from techreform.validation.completeness import compute_completeness
from techreform.validation.gate import DeliveryTooBroken, check_gate
from techreform.validation.receipts import write_receipts
from warehouse_snapshot import changes, snapshot

PERIOD = Period(2013, 6)
A, B, D, E, F = (uscc_for("620102", n) for n in (1, 2, 4, 5, 6))
G, H = uscc_for("620402", 7), uscc_for("620402", 8)  # 白银市 (620400)


def _r1(uscc: str, region: str, name: str, **overrides: str) -> dict[str, str]:
    row = {
        "统一社会信用代码": uscc,
        "企业名称": name,
        "行政区划代码": region,
        "行业代码": "2614",
        "企业规模": "中型",
        "是否规模以上": "是",
        "是否重点企业": "否",
        "是否战略性新兴产业企业": "否",
        "是否流程型生产骨干企业": "否",
        "经营状态": "在营",
        "统计联系人邮箱": "stat@example.cn",
    }
    row.update(overrides)
    return row


def _explanation(folder, name: str, rows: list[dict[str, str]]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    headers = ["统一社会信用代码", "项目代码", "报告期", "审核规则", "核实说明", "核实人"]
    lines = [",".join(headers)] + [",".join(r.get(h, "") for h in headers) for r in rows]
    (folder / name).write_text("\n".join(lines) + "\n", encoding="utf-8")


def _rows(engine, sql, **params):
    with engine.connect() as conn:
        return conn.execute(sa.text(sql), params).fetchall()


@pytest.fixture
def chain(settings):
    """A register, and an E1 delivery with one clean row, one soft query, one hard failure (in 白银)."""
    settings = settings.with_options(validation={"hard_fail_threshold": 0.20})
    engine = prepare_warehouse(settings)
    write_delivery(
        settings.landing_dir,
        R1,
        "2013-06",
        "R1_2013-06.csv",
        [
            _r1(A, "620102", "甲公司"),
            _r1(B, "620102", "乙公司"),
            _r1(D, "620402", "丁公司"),
            _r1(E, "620102", "戊公司", **{"是否规模以上": "否"}),
            _r1(F, "620102", "己公司", **{"经营状态": "停产"}),
        ],
    )
    write_delivery(
        settings.landing_dir,
        E1,
        "2013-06",
        "E1_620100_2013-06.csv",
        [
            e1_row(A, "2013-06"),
            e1_row(B, "2013-06", **{"工业增加值": "1300"}),  # E1-S01: query
            e1_row(G, "2013-06", "620402", **{"主营业务收入": "-5", "企业名称": "<script>庚</script>"}),  # E1-H07
            e1_row(H, "2013-06", "620402", **{"工业增加值": "1300"}),  # E1-S01 and E1-S09
        ],
    )
    for code in ("R1", "E1"):
        process_form(engine, settings, code, PERIOD)
    return settings, engine


def _status(engine) -> dict[str, tuple[str, str]]:
    return {
        r.uscc: (r.review_status, r.soft_rule_ids)
        for r in _rows(engine, "select uscc, review_status, soft_rule_ids from fct_enterprise_monthly")
    }


def test_rows_are_ok_query_or_quarantined_and_results_are_kept_per_rule(chain):
    settings, engine = chain
    assert _status(engine) == {A: ("ok", ""), B: ("query", "E1-S01"), H: ("query", "E1-S01,E1-S09")}
    quarantined = _rows(engine, "select record_key, rule_ids from quarantine where form = 'E1'")
    assert [(q.record_key, q.rule_ids) for q in quarantined] == [(G, "E1-H07,E1-S02,E1-S05,E1-S09")]
    counts = {
        r.rule_id: (r.severity, r.evaluated, r.failed)
        for r in _rows(engine, "select * from dq_rule_result where form = 'E1' and period = '2013-06'")
    }
    assert counts["E1-S01"] == ("soft", 4, 2) and counts["E1-H07"] == ("hard", 4, 1)
    assert counts["E1-H01"] == ("hard", 4, 0) and len(counts) == 18
    failure = _rows(engine, "select * from dq_row_failure where rule_id = 'E1-H07'")[0]
    assert failure.prefecture_code == "620400" and failure.file_name == "E1_620100_2013-06.csv"
    assert json.loads(failure.received_json) == {"主营业务收入 (revenue)": "-5"}


def test_no_frame_of_the_validated_rows_stays_alive_after_the_load(chain, monkeypatch):
    """GX's context outlives a validation (until the next one): it must not keep the batch's frame, or
    the validated columns of a whole period stay in memory while the load writes the facts."""
    from great_expectations.execution_engine.pandas_batch_data import PandasBatchData

    settings, engine = chain
    batches = []
    real_init = PandasBatchData.__init__

    def init(self, *args, **kwargs):
        real_init(self, *args, **kwargs)
        batches.append(weakref.ref(self))

    monkeypatch.setattr(PandasBatchData, "__init__", init)
    write_delivery(settings.landing_dir, E1, "2013-07", "E1_620100_2013-07.csv", [e1_row(A, "2013-07")])
    process_form(engine, settings, "E1", Period(2013, 7))
    gc.collect()
    assert batches and [b for b in batches if b() is not None] == []


def test_the_helper_frame_of_every_row_is_freed_before_the_raw_files_are_read_back(chain, monkeypatch):
    """``validate_staged`` keeps only the failing rows of the helper frame (every row of the period, with the
    helper columns) while ``fill_received`` reads the raw zone back."""
    import techreform.validation as validation

    settings, engine = chain
    frames, alive = [], []
    real_helper_columns, real_fill_received = validation.derive.helper_columns, validation.fill_received

    def helper_columns(*args, **kwargs):
        frame = real_helper_columns(*args, **kwargs)
        frames.append(weakref.ref(frame))
        return frame

    def fill_received(*args, **kwargs):
        gc.collect()
        alive.append(frames[-1]() is not None)
        return real_fill_received(*args, **kwargs)

    monkeypatch.setattr(validation.derive, "helper_columns", helper_columns)
    monkeypatch.setattr(validation, "fill_received", fill_received)
    write_delivery(settings.landing_dir, E1, "2013-07", "E1_620100_2013-07.csv", [e1_row(A, "2013-07")])
    process_form(engine, settings, "E1", Period(2013, 7))
    assert alive == [False]


def test_rerunning_a_period_gives_the_same_outcomes(chain):
    settings, engine = chain
    before = snapshot(engine)
    process_form(engine, settings, "E1", PERIOD)
    assert changes(before, snapshot(engine)) == {}


def test_an_explanation_turns_exactly_its_query_into_explained_on_rerun(chain):
    settings, engine = chain
    _explanation(
        settings.landing_dir / "explanations" / "2013-07",
        "核实说明_兰州.csv",
        [
            {
                "统一社会信用代码": B,
                "报告期": "2013年6月",
                "审核规则": "E1-S01",
                "核实说明": "含委托加工收入，已核实",
                "核实人": "张三",
            },
        ],
    )
    process_form(engine, settings, "E1", PERIOD)
    assert _status(engine) == {A: ("ok", ""), B: ("explained", "E1-S01"), H: ("query", "E1-S01,E1-S09")}
    explained = _rows(
        engine,
        "select uscc_or_key, rule_id from (select record_key as uscc_or_key, rule_id, explained "
        "from dq_row_failure) as f where explained = 1",
    )
    assert [(r.uscc_or_key, r.rule_id) for r in explained] == [(B, "E1-S01")]
    before = snapshot(engine)
    process_form(engine, settings, "E1", PERIOD)  # re-reading the same explanations changes nothing
    assert changes(before, snapshot(engine)) == {}


def test_completeness_counts_expected_and_received_per_prefecture_and_lists_the_missing(chain):
    settings, engine = chain
    summary = compute_completeness(engine, settings, PERIOD)
    assert (summary["expected"], summary["received"], summary["missing"]) == (3, 2, 1)
    assert summary["by_prefecture"]["620100"] == {"expected": 2, "received": 2, "missing": 0, "rate": 1.0}
    assert summary["by_prefecture"]["620400"] == {"expected": 1, "received": 0, "missing": 1, "rate": 0.0}
    assert summary["by_prefecture"]["620200"]["rate"] is None
    missing = _rows(engine, "select uscc, enterprise_name, county_name, prefecture_name from dq_missing_reporter")
    assert [tuple(m) for m in missing] == [(D, "丁公司", "白银区", "白银市")]
    assert compute_completeness(engine, settings, Period(2013, 1))["expected"] == 0  # January excepted
    compute_completeness(engine, settings, PERIOD)
    assert len(_rows(engine, "select * from dq_completeness where period = '2013-06'")) == 15


def test_receipts_list_what_each_prefecture_must_correct_or_explain_with_the_received_values(chain):
    settings, engine = chain
    compute_completeness(engine, settings, PERIOD)
    paths = write_receipts(engine, settings, PERIOD)
    names = sorted(p.name for p in paths)
    assert names == [
        "receipt_2013-06_620100.html",
        "receipt_2013-06_620100.xlsx",
        "receipt_2013-06_620400.html",
        "receipt_2013-06_620400.xlsx",
    ]
    page = (settings.output_dir / "receipts" / "2013-06" / "receipt_2013-06_620400.html").read_text(encoding="utf-8")
    assert "<script>" not in page and "&lt;script&gt;庚&lt;/script&gt;" in page
    assert "E1-H07" in page and "需更正" in page and "主营业务收入：-5" in page and "丁公司" in page
    assert "(revenue)" not in page  # field names in Chinese
    assert "<h3>E1 企业" in page and page.count("<th>报表</th>") == 1  # the form is its table's heading, not a column
    assert "前更正后重新报送" in page and "截止日期：2013年7月16日" in page  # what to do, by when (11th + 5 days)
    assert "@page { size: A4 landscape" in page and "table-layout: fixed" in page and "<colgroup>" in page
    book = openpyxl.load_workbook(settings.output_dir / "receipts" / "2013-06" / "receipt_2013-06_620100.xlsx")
    sheet = book["需说明（核实性审核）"]
    explain = [[c.value for c in row] for row in sheet.iter_rows(min_row=3)]
    assert {(r[3], r[5]) for r in explain} == {(B, "E1-S01")}
    assert any("工业增加值：1,300" in (r[7] or "") for r in explain)  # Chinese field, formatted number
    assert [c.value for c in sheet[2]][:3] == ["报表", "文件", "行号"]
    assert sheet.freeze_panes == "A3" and sheet.auto_filter.ref and sheet.auto_filter.ref.startswith("A2:")
    assert sheet.column_dimensions["I"].width > 50 and sheet.column_dimensions["C"].width < 10  # widths by column
    assert book["需更正（强制性审核）"].max_row == 2  # title and headers only
    assert "说明" in book.sheetnames


def test_review_writes_data_docs_for_the_period(chain):
    settings, engine = chain
    review = review_period(engine, settings, PERIOD)
    index = settings.output_dir / "data_docs" / "gx" / "index.html"  # GX's own site (needs its CDNs)
    offline = settings.output_dir / "data_docs" / "site" / "index.html"  # the self-contained pages people read
    assert review["data_docs"] == str(offline) and index.exists()
    assert "E1-S01" in (offline.parent / "2013-06" / "E1.html").read_text(encoding="utf-8")
    pages = list(index.parent.glob("validations/enterprise_monthly/E1_2013-06/*/*.html"))
    assert len(pages) == 1 and "E1-S01" in pages[0].read_text(encoding="utf-8")
    write_delivery(settings.landing_dir, E1, "2013-07", "E1_620100_2013-07.csv", [e1_row(A, "2013-07")])
    process_form(engine, settings, "E1", Period(2013, 7))
    review_period(engine, settings, Period(2013, 7))
    process_form(engine, settings, "E1", PERIOD)  # a re-run replaces its page, adds none
    review_period(engine, settings, PERIOD)
    pages = sorted(p.parent.parent.name for p in index.parent.glob("validations/enterprise_monthly/*/*/*.html"))
    assert pages == ["E1_2013-06", "E1_2013-07"]
    text = index.read_text(encoding="utf-8")
    assert "E1_2013-06" in text and "E1_2013-07" in text
    # the last build rendered June again and kept July's page as rendered in July, with every expectation
    for month in ("2013-06", "2013-07"):
        (page,) = index.parent.glob(f"validations/enterprise_monthly/E1_{month}/*/*.html")
        assert "E1-H01" in page.read_text(encoding="utf-8"), month
    assert sorted(p.relative_to(offline.parent).as_posix() for p in offline.parent.glob("*/E1.html")) == [
        "2013-06/E1.html",
        "2013-07/E1.html",
    ]
    assert offline.read_text(encoding="utf-8").count('href="2013-06/E1.html"') == 1


def test_the_gate_fails_a_delivery_whose_hard_failed_share_passes_the_threshold(chain):
    settings, engine = chain
    with pytest.raises(DeliveryTooBroken, match=r"E1 .*2013-06.*1 of 4 rows quarantined \(25.0%\).*20%"):
        check_gate(engine, settings, E1, PERIOD)
    check_gate(engine, settings.with_options(validation={"hard_fail_threshold": 0.25}), E1, PERIOD)
    check_gate(engine, settings, R1, PERIOD)
