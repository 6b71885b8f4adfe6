"""The monthly analysis report as HTML (one self-contained page: inline CSS and SVG charts, no network)
and as PDF (WeasyPrint, A4, Noto CJK fonts embedded as subsets).

Fonts: Noto Sans CJK SC (text) and Noto Serif CJK SC (titles) from Debian's ``fonts-noto-cjk``
(installed by ``make system``), found through fontconfig; :data:`FONT_FILES` are checked before a PDF is
made, so a machine without them fails with one line instead of printing boxes."""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from techreform.labels import label
from techreform.numbers import format_number
from techreform.periods import Period
from techreform.report.content import ReportContent
from techreform.report.projection import LEVEL

FONT_FILES = (
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
    Path("/usr/share/fonts/opentype/noto/NotoSerifCJK-Bold.ttc"),
)
"""The CJK fonts the PDF relies on (Debian ``fonts-noto-cjk``)."""
SANS, SERIF = "Noto Sans CJK SC", "Noto Serif CJK SC"

STATUS_COLOURS = {"met": "#1B5E20", "on_track": "#2E7D32", "lagging": "#C00000", "no_target": "#666", "no_data": "#999"}
METHOD_ZH = (
    "预测方法：对每项有2015年目标的月度指标，取其全省2011年1月以来至本期的月度值（技术改造投资为累计值，比率类指标为本年累计口径），"
    "以最小二乘法拟合线性趋势 y = a + b·k（k 为自2010年12月起的月数，2015年12月 k = 60），外推至2015年12月，"
    f"并给出{LEVEL:.0%}预测区间 ŷ ± t(0.95, n−2)·s·√(1 + 1/n + (60 − k̄)²/Σ(k − k̄)²)。"
    "整个区间达到目标为“预计达标”，仅预测值达到为“可能达标”，否则为“预计难以达标”；"
    "2015年12月及以后以实际值判断。少于3个月度值的指标不作预测。年度指标不作月度预测。"
)

CSS = f"""
@page {{ size: A4; margin: 18mm 15mm 18mm 15mm;
  @bottom-center {{ content: "第 " counter(page) " 页 / 共 " counter(pages) " 页"; font-family: "{SANS}"; font-size: 8pt; color: #666; }} }}
html {{ font-family: "{SANS}", sans-serif; font-size: 10pt; color: #222; line-height: 1.5; }}
body {{ max-width: 1100px; margin: 0 auto; padding: 0 12px; }}
h1 {{ font-family: "{SERIF}", serif; font-size: 20pt; text-align: center; margin: 0 0 2mm; color: #8B0000; }}
h2 {{ font-family: "{SERIF}", serif; font-size: 13pt; border-bottom: 1.5pt solid #8B0000; margin: 6mm 0 2mm; }}
.sub {{ text-align: center; color: #555; margin-bottom: 4mm; }}
table {{ border-collapse: collapse; width: 100%; margin: 2mm 0; page-break-inside: auto; }}
th, td {{ border: 0.6pt solid #999; padding: 2pt 4pt; font-size: 8.5pt; }}
th {{ background: #E8EEF7; font-weight: bold; }}
thead {{ display: table-header-group; }}
tr {{ page-break-inside: avoid; }}
td.num {{ text-align: right; white-space: nowrap; }}
.lagging {{ color: #C00000; font-weight: bold; }} .on_track, .met {{ color: #1B5E20; }}
.red {{ color: #C00000; font-weight: bold; }} .yellow {{ color: #B8860B; font-weight: bold; }}
.note {{ color: #555; font-size: 8.5pt; }}
.chart {{ margin: 2mm 0; page-break-inside: avoid; text-align: center; }}
.chart svg {{ max-width: 100%; height: auto; }}
ul.comment li {{ margin-bottom: 1mm; }}
"""


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _table(headers: Sequence[str], rows: Sequence[Sequence[tuple[str, str]]]) -> str:
    """``rows`` of ``(text, css class)`` cells; every text escaped."""
    if not rows:
        return '<p class="note">无。</p>'
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f'<td class="{cls}">{_e(text)}</td>' for text, cls in row) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _indicator_rows(content: ReportContent) -> list[list[tuple[str, str]]]:
    rows = []
    for i in content.indicators:
        rows.append(
            [
                (i.name_zh, ""),
                (i.unit, ""),
                (format_number(i.value), "num"),
                (format_number(i.target), "num"),
                (format_number(i.target_2015), "num"),
                (i.status_zh, i.status),
                (label("indicator_status", i.previous_status) if i.previous_status else "—", ""),
            ]
        )
    return rows


def _projection_rows(content: ReportContent) -> list[list[tuple[str, str]]]:
    rows = []
    for i in content.indicators:
        p = i.projection
        if p is None:
            continue
        cls = {"likely": "met", "met": "met", "possible": "", "unlikely": "lagging", "missed": "lagging"}[p.verdict]
        rows.append(
            [
                (i.name_zh, ""),
                (i.unit, ""),
                (format_number(i.value), "num"),
                (format_number(i.target_2015), "num"),
                (format_number(p.value), "num"),
                (f"{format_number(p.low)} ～ {format_number(p.high)}", "num"),
                (str(p.points), "num"),
                (p.verdict_zh, cls),
            ]
        )
    return rows


def _light_rows(content: ReportContent) -> list[list[tuple[str, str]]]:
    rows = []
    for r in content.lights:
        before = content.previous_lights.get(r["prefecture_code"])
        rows.append(
            [
                (r["prefecture_name"] or r["prefecture_code"] or "未识别市州", ""),
                (str(r["red"]), "num red" if r["red"] else "num"),
                (str(r["yellow"]), "num yellow" if r["yellow"] else "num"),
                (str(r["green"]), "num"),
                (str(r["escalated"]), "num"),
                (f"{before['red']}/{before['yellow']}" if before else "—", "num"),
            ]
        )
    return rows


def _prefecture_rows(content: ReportContent) -> list[list[tuple[str, str]]]:
    return [
        [
            (p["prefecture_name"] or p["prefecture_code"], ""),
            (str(p["lagging"]), "num lagging" if p["lagging"] else "num"),
            (str(p["judged"]), "num"),
            ("—" if p["previous_lagging"] is None else str(p["previous_lagging"]), "num"),
            (str(p["red"]), "num"),
            (str(p["yellow"]), "num"),
        ]
        for p in content.prefectures
    ]


def render_html(content: ReportContent, charts: Sequence[tuple[str, str]] = (), generated_by: str = "") -> str:
    """The report as one HTML page; ``charts`` are ``(title, inline SVG)`` pairs (from
    :mod:`techreform.charts`), shown after the commentary. Nothing in it depends on the time of the run."""
    period = Period.parse(content.period)
    title = f"{content.province_name}企业技术改造统计监测月报"
    chart_html = "".join(f'<div class="chart"><p><b>{_e(name)}</b></p>{svg}</div>' for name, svg in charts)
    sections = [
        f"<h1>{_e(title)}</h1>",
        f'<p class="sub">报告期：{_e(period.label_zh)}（{_e(content.period)}）　{_e(generated_by)}</p>',
        "<h2>一、本月概要</h2>",
        '<ul class="comment">' + "".join(f"<li>{_e(line)}</li>" for line in content.commentary) + "</ul>",
        chart_html and f"<h2>二、图表</h2>{chart_html}",
        "<h2>三、主要指标完成情况（全省）</h2>",
        _table(["指标", "单位", "本期值", "本期序时目标", "2015年目标", "状态", "上月状态"], _indicator_rows(content)),
        "<h2>四、2015年目标预测</h2>",
        _table(
            ["指标", "单位", "本期值", "2015年目标", "2015年12月预测值", f"{LEVEL:.0%}预测区间", "样本月数", "判断"],
            _projection_rows(content),
        ),
        f'<p class="note">{_e(METHOD_ZH)}</p>',
        "<h2>五、项目督办灯色（按市州）</h2>",
        _table(["市州", "红灯", "黄灯", "绿灯", "升级督办", "上月红/黄"], _light_rows(content)),
        "<h2>六、市州指标滞后情况</h2>",
        _table(
            ["市州", "滞后指标数", "有目标指标数", "上月滞后指标数", "红灯项目", "黄灯项目"], _prefecture_rows(content)
        ),
        '<p class="note">数据来源：技术改造统计监测数据仓库（企业月报E1、项目月报P1、企业名录R1、两化融合与技术装备年报A1、重点产品产量Q1、认定名录G1）；'
        "指标口径见《统计指标体系》。本报告由系统根据仓库数据自动生成。</p>",
    ]
    return (
        '<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width"><meta name="generator" content="{_e(renderer())}">'
        f"<title>{_e(title)} {_e(period.label_zh)}</title>"
        f"<style>{CSS}</style></head><body>{''.join(sections)}</body></html>\n"
    )


def renderer() -> str:
    """What the PDF is made with besides the HTML: WeasyPrint's and pydyf's versions and the size of each
    CJK font file (:data:`FONT_FILES`). :func:`render_html` writes it into the page (``<meta
    name="generator">``), so a new renderer or new fonts change the HTML and the stored PDF is rendered
    again (``write_monthly_report`` skips only when the HTML is unchanged)."""
    from importlib.metadata import version

    fonts = " ".join(f"{f.name}:{f.stat().st_size if f.is_file() else 'absent'}" for f in FONT_FILES)
    return f"WeasyPrint {version('weasyprint')}; pydyf {version('pydyf')}; {fonts}"


class FontsMissing(RuntimeError):
    """The CJK fonts of the PDF are not installed (``make system`` installs fonts-noto-cjk)."""


def check_fonts(files: Sequence[Path] = FONT_FILES) -> None:
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        raise FontsMissing(
            f"the monthly report's fonts are missing: {', '.join(missing)} — install Debian's fonts-noto-cjk "
            "(make system)"
        )


def render_pdf(page: str, title: str, period: str) -> bytes:
    """The PDF of the HTML ``page``: A4, fonts embedded (subsets), the same bytes for the same page (no
    creation time, a fixed document identifier derived from the period)."""
    import hashlib

    from weasyprint import HTML

    check_fonts()
    document = HTML(string=page, base_url=None).render()
    document.metadata.title = title
    document.metadata.authors = ["甘肃省企业技术改造统计监测"]
    document.metadata.created = None
    document.metadata.modified = None
    identifier = hashlib.sha256(f"techreform-monthly-report-{period}".encode()).hexdigest()[:32].encode()
    return document.write_pdf(pdf_identifier=identifier)
