"""Data Docs that read well offline (techreform.validation.datadocs_pages): self-contained pages, soft
rules as warnings, helper columns hidden, values in their fields, rules in Chinese."""

from __future__ import annotations

import json
import re

from techreform.validation import datadocs
from techreform.validation.datadocs_pages import index_page, validation_page, verdict_of


def expectation(
    rule_id: str,
    severity: str,
    kwargs: dict,
    fields: list[str],
    message: str,
    *,
    success: bool,
    unexpected: list | None = None,
    count: int = 0,
) -> dict:
    return {
        "success": success,
        "expectation_config": {
            "type": "expect_x",
            "kwargs": kwargs,
            "meta": {"rule_id": rule_id, "severity": severity, "fields": fields, "message_zh": message},
        },
        "result": {
            "element_count": 50,
            "unexpected_count": count,
            "unexpected_percent": count * 2.0,
            "partial_unexpected_list": unexpected or [],
        },
        "exception_info": {"raised_exception": False, "exception_message": None},
    }


def document(*results: dict) -> dict:
    return {
        "success": all(r["success"] for r in results),
        "results": list(results),
        "meta": {"form": "E1", "period": "2013-06"},
    }


SOFT_HB = expectation(
    "E1-S08",
    "soft",
    {"column": "_hb_ok_revenue"},
    ["revenue"],
    "主营业务收入 (revenue) 本月增量 {_hb_increment_revenue} 与此前月均 {_hb_reference_revenue} 相比异常",
    success=False,
    unexpected=[False, False],
    count=2,
)
SOFT_REGISTER = expectation(
    "E1-S09",
    "soft",
    {"column_A": "industry_code", "column_B": "_register_industry_code"},
    ["industry_code"],
    "行业代码 (industry_code) “{industry_code}” 与企业名录中的 “{_register_industry_code}” 不一致",
    success=False,
    unexpected=[["5131", "3031"]],
    count=1,
)
HARD_DUPLICATE = expectation(
    "E1-H02",
    "hard",
    {"column_list": ["file_sha256", "uscc", "period"]},
    ["uscc", "period"],
    "同一文件中 统一社会信用代码 (uscc) “{uscc}” 与 报告期 (period) “{period}” 重复出现",
    success=False,
    unexpected=[{"file_sha256": "ab" * 32, "uscc": "91620100MA000000X1", "period": "2013-06"}],
    count=2,
)
PASSED = expectation(
    "E1-H03",
    "hard",
    {"column": "enterprise_name"},
    ["enterprise_name"],
    "企业名称 (enterprise_name) 为空",
    success=True,
)


def test_soft_failures_are_warnings_and_the_page_passes():
    page = validation_page(document(SOFT_HB, SOFT_REGISTER, PASSED))
    assert 'data-verdict="warning"' in page and "通过（有核实性提示）" in page
    assert re.search(r'<tr class="warning" data-rule="E1-S09">.*?<td class="result">警告</td>', page)
    assert "未通过" not in page.split("id='rules'")[1].split("</table>")[0]
    assert verdict_of(document(SOFT_HB, PASSED)) == "warning"


def test_a_hard_failure_fails_the_page():
    page = validation_page(document(HARD_DUPLICATE, SOFT_REGISTER, PASSED))
    assert 'data-verdict="failed"' in page and "未通过强制性审核" in page
    assert verdict_of(document(PASSED)) == "ok"


def test_values_are_in_their_fields_and_helper_columns_are_hidden():
    page = validation_page(document(HARD_DUPLICATE, SOFT_REGISTER, SOFT_HB))
    sample = page.split('<table class="sample" data-rule="E1-H02">')[1].split("</table>")[0]
    headers = re.findall(r"<th>(.*?)<br><small>(\w+)</small></th>", sample)
    assert headers == [("统一社会信用代码", "uscc"), ("报告期", "period")]
    assert "<td>91620100MA000000X1</td><td>2013-06</td>" in sample
    assert "abab" not in page  # the file's digest is not a field
    assert "_register_industry_code" not in page and "_hb_ok_revenue" not in page and "_hb_" not in page
    register = page.split('<table class="sample" data-rule="E1-S09">')[1].split("</table>")[0]
    assert "<td>5131</td>" in register and "3031" not in register
    # E1-S08 judges a helper column only: no sample table, a pointer to the receipts instead
    assert '<table class="sample" data-rule="E1-S08">' not in page and "派生数值" in page


def test_rules_read_in_chinese_and_the_page_needs_nothing_from_the_network():
    page = validation_page(document(HARD_DUPLICATE, SOFT_REGISTER))
    assert "同一文件中 统一社会信用代码 (uscc) “…” 与 报告期 (period) “…” 重复出现" in page
    assert "强制性审核" in page and "核实性审核" in page
    assert re.findall(r"(?:src|href)=\"(https?:)?//", page) == []
    assert "<script" not in page and "<link" not in page and "@import" not in page and "cdn" not in page.lower()
    index = index_page(
        [("2013-06", "E1", "warning", "2013-06/E1.html"), ("2013-06", "P1", "failed", "2013-06/P1.html")]
    )
    assert index.index("P1") < index.index("E1") and "http" not in index


def test_offline_pages_written_for_a_period_and_found_by_the_view(sqlite_settings):
    folder = datadocs.results_dir(sqlite_settings, "2013-06")
    folder.mkdir(parents=True)
    (folder / "E1.json").write_text(json.dumps(document(SOFT_REGISTER, PASSED), ensure_ascii=False), encoding="utf-8")
    index = datadocs.build_offline_pages(sqlite_settings, "2013-06")
    assert index.read_text(encoding="utf-8").count("2013-06/E1.html") == 1
    assert (index.parent / "2013-06" / "E1.html").exists()
    pages = datadocs.period_pages(sqlite_settings, "2013-06")
    assert pages[0][1] == "2013-06/E1.html" and pages[-1] == ("全部报告期", "index.html")
    assert datadocs.site_file(sqlite_settings, "2013-06/E1.html") is not None
    assert datadocs.site_file(sqlite_settings, "../results/2013-06/E1.json") is None
    assert datadocs.site_file(sqlite_settings, "2013-07/E1.html") is None
