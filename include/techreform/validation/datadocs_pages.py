"""Data Docs that read well offline: self-contained HTML pages of each (form, period) validation.

GX's own static site (``build_data_docs``) loads Bootstrap, jQuery, font-awesome and vega from about a
dozen CDN addresses, counts soft rules (核实性审核) as failures, shows the validation's helper columns
and runs the values of a multi-column rule together. These pages are rendered instead from the kept
result JSON (``data_docs/results/<YYYY-MM>/<form>.json``) and the suites' meta, with one inline
stylesheet and nothing else — no script, no font, no image, no address outside the page:

* a page's verdict is 未通过 only when a hard rule (强制性审核) failed; a soft rule's failures are
  警告 (核实性提示: the reporting unit explains, the row is kept);
* each rule reads in Chinese (:func:`techreform.validation.suites.rule_text_zh`) with its id and class;
* the sample of unexpected values is a table with one column per field of the form, headed by the
  field's Chinese name; helper columns of the validation (names starting with ``_``, e.g. ``_hb_ok_*``,
  ``_in_register``) and the file's digest are not shown.

Rendering only: :func:`techreform.validation.datadocs.build_offline_pages` writes the pages.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from typing import Any

from techreform.forms import FORMS, Form
from techreform.labels import label
from techreform.validation.suites import rule_text_zh

STYLE = """
body{margin:0;padding:16px 24px 40px;color:#222;font-size:14px;line-height:1.5;
font-family:"Noto Sans CJK SC","Noto Sans SC","Source Han Sans SC","Microsoft YaHei",sans-serif}
h1{font-size:19px;margin:0 0 4px}h2{font-size:16px;margin:22px 0 8px;border-left:4px solid #1f5fa8;padding-left:8px}
h3{font-size:14px;margin:14px 0 4px}p.note{color:#666;margin:4px 0 10px}
table{border-collapse:collapse;margin:6px 0 14px}th,td{border:1px solid #d9d9d9;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f3f5f8;white-space:nowrap}td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.verdict{display:inline-block;padding:2px 10px;border-radius:3px;color:#fff;font-weight:600}
.verdict.ok{background:#2e7d32}.verdict.warning{background:#b8860b}.verdict.failed{background:#c62828}
#rules td:nth-child(-n+2){white-space:nowrap}tr.failed{background:#fdecea}tr.warning{background:#fff8e1}
tr.failed td.result{color:#c62828;font-weight:600}tr.warning td.result{color:#8a6500;font-weight:600}
tr.ok td.result{color:#2e7d32}a{color:#1f5fa8}.scroll{overflow-x:auto}
"""

MAX_SAMPLE = 20


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def _page(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{STYLE}</style></head><body>{body}</body></html>\n"
    )


def _cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "（空）"
    if isinstance(value, float):
        return f"{value:,.4f}".rstrip("0").rstrip(".") if not value.is_integer() else f"{value:,.0f}"
    return str(value)


def rule_outcome(item: Mapping[str, Any]) -> str:
    """``ok``, ``warning`` (a soft rule broken) or ``failed`` (a hard rule broken, or the rule could not
    run) for one expectation result."""
    meta = item.get("expectation_config", {}).get("meta") or {}
    raised = (item.get("exception_info") or {}).get("raised_exception")
    if item.get("success") and not raised:
        return "ok"
    return "warning" if meta.get("severity") == "soft" and not raised else "failed"


def _columns_of(config: Mapping[str, Any]) -> list[str]:
    kwargs = config.get("kwargs") or {}
    if "column_list" in kwargs:
        return list(kwargs["column_list"])
    if "column_A" in kwargs:
        return [kwargs["column_A"], kwargs["column_B"]]
    if "column" in kwargs:
        return [kwargs["column"]]
    return []


def visible_fields(form: Form, config: Mapping[str, Any]) -> list[str]:
    """The fields of the form a rule's sample shows: the rule's ``meta.fields`` (else its columns),
    without helper columns (``_…``) and anything that is not a field of the form (the file's digest)."""
    meta = config.get("meta") or {}
    names = list(meta.get("fields") or _columns_of(config))
    known = set(form.field_names)
    return [n for n in names if not n.startswith("_") and n in known]


def sample_rows(form: Form, config: Mapping[str, Any], result: Mapping[str, Any]) -> tuple[list[str], list[dict]]:
    """The unexpected values of one rule as rows ``{field: value}`` over :func:`visible_fields`."""
    fields = visible_fields(form, config)
    columns = _columns_of(config)
    out: list[dict] = []
    for value in (result or {}).get("partial_unexpected_list") or []:
        if isinstance(value, Mapping):
            row = dict(value)
        elif isinstance(value, list | tuple):
            row = dict(zip(columns, value, strict=False))
        else:
            row = {columns[0]: value} if columns else {}
        out.append(row)
    present = [f for f in fields if any(f in row for row in out)]  # a helper column's values are no field's
    return present, [{f: row.get(f) for f in present} for row in out[:MAX_SAMPLE]]


def validation_page(document: Mapping[str, Any], *, index_href: str = "../index.html") -> str:
    """The page of one validation result (a GX suite result as JSON, with ``meta.form`` and ``meta.period``)."""
    meta = document.get("meta") or {}
    form = FORMS[meta["form"]]
    period = meta.get("period", "")
    items = list(document.get("results") or [])
    outcomes = [rule_outcome(i) for i in items]
    failed = outcomes.count("failed")
    warned = outcomes.count("warning")
    verdict = "failed" if failed else ("warning" if warned else "ok")
    verdict_zh = {"ok": "通过", "warning": "通过（有核实性提示）", "failed": "未通过强制性审核"}[verdict]
    rows_evaluated = max((int((i.get("result") or {}).get("element_count") or 0) for i in items), default=0)
    title = f"{form.title_zh}（{form.code}）{period} 审核结果"
    body = [
        f'<p><a href="{_e(index_href)}">← 全部审核结果</a></p><h1>{_e(title)}</h1>',
        f'<p>结论：<span class="verdict {verdict}" id="verdict" data-verdict="{verdict}">{verdict_zh}</span></p>',
        f'<p class="note">审核行数 {rows_evaluated:,}；规则 {len(items)} 条：通过 {outcomes.count("ok")}，'
        f"强制性审核未通过 {failed}，核实性提示（警告）{warned}。强制性审核未通过的行被隔离，须更正后重报；"
        "核实性提示的行已入库，请报送单位核实并说明。</p>",
        "<h2>规则一览</h2><div class='scroll'><table id='rules'><thead><tr><th>规则</th><th>类别</th><th>内容</th>"
        "<th>结果</th><th class='num'>违反行数</th><th class='num'>比例</th></tr></thead><tbody>",
    ]
    details: list[str] = []
    order = sorted(range(len(items)), key=lambda n: ({"failed": 0, "warning": 1, "ok": 2}[outcomes[n]], n))
    for n in order:
        item, outcome = items[n], outcomes[n]
        config = item.get("expectation_config") or {}
        rmeta = config.get("meta") or {}
        result = item.get("result") or {}
        rule_id = rmeta.get("rule_id", config.get("type", ""))
        text = rule_text_zh(rmeta)
        count = result.get("unexpected_count")
        percent = result.get("unexpected_percent")
        result_zh = {"ok": "通过", "warning": "警告", "failed": "未通过"}[outcome]
        body.append(
            f'<tr class="{outcome}" data-rule="{_e(rule_id)}"><td>{_e(rule_id)}</td>'
            f"<td>{_e(label('severity', rmeta.get('severity')))}</td><td>{_e(text)}</td>"
            f'<td class="result">{result_zh}</td><td class="num">{_e("" if count is None else f"{count:,}")}</td>'
            f'<td class="num">{_e("" if percent is None else f"{percent:.2f}%")}</td></tr>'
        )
        if outcome == "ok":
            continue
        fields, sample = sample_rows(form, config, result)
        raised = (item.get("exception_info") or {}).get("exception_message")
        part = [f'<h3 id="rule-{_e(rule_id)}">{_e(rule_id)} {result_zh}：{_e(text)}</h3>']
        if raised:
            part.append(f'<p class="note">规则未能执行：{_e(raised)}</p>')
        if fields and sample:
            head = "".join(f"<th>{_e(form.field(f).header_zh)}<br><small>{_e(f)}</small></th>" for f in fields)
            rows_html = "".join(
                "<tr>" + "".join(f"<td>{_e(_cell(r.get(f)))}</td>" for f in fields) + "</tr>" for r in sample
            )
            shown = f"（前 {len(sample)} 行）" if (count or 0) > len(sample) else ""
            part.append(
                f'<p class="note">不符合规则的值{shown}：</p><div class="scroll"><table class="sample" '
                f'data-rule="{_e(rule_id)}"><thead><tr>{head}</tr></thead><tbody>{rows_html}</tbody></table></div>'
            )
        elif count:
            part.append('<p class="note">这条规则判断的是派生数值，逐行明细见本期审核回执。</p>')
        details.append("".join(part))
    body.append("</tbody></table></div>")
    if details:
        body.append("<h2>不符合规则的值</h2>" + "".join(details))
    return _page(title, "".join(body))


def index_page(entries: Sequence[tuple[str, str, str, str]]) -> str:
    """The index of every rendered validation: ``(period, form code, verdict, href)``, latest first."""
    verdict_zh = {"ok": "通过", "warning": "通过（有核实性提示）", "failed": "未通过强制性审核"}
    rows = "".join(
        f"<tr><td>{_e(period)}</td><td>{_e(FORMS[code].title_zh)}（{_e(code)}）</td>"
        f'<td><span class="verdict {verdict}">{verdict_zh.get(verdict, verdict)}</span></td>'
        f'<td><a href="{_e(href)}">查看</a></td></tr>'
        for period, code, verdict, href in sorted(entries, key=lambda e: (e[0], e[1]), reverse=True)
    )
    body = (
        "<h1>数据文档：各报告期审核结果</h1><p class='note'>强制性审核未通过的行被隔离；核实性提示为警告，"
        "行已入库。</p><table id='validations'><thead><tr><th>报告期</th><th>表式</th><th>结论</th><th></th></tr>"
        f"</thead><tbody>{rows}</tbody></table>"
    )
    return _page("数据文档", body)


def verdict_of(document: Mapping[str, Any]) -> str:
    outcomes = [rule_outcome(i) for i in document.get("results") or []]
    return "failed" if "failed" in outcomes else ("warning" if "warning" in outcomes else "ok")
