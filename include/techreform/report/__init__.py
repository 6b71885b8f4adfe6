"""The monthly analysis report (统计监测月报) of a period, as HTML and PDF.

:func:`write_monthly_report` reads the warehouse (:mod:`.content`), projects each 2015 target
(:mod:`.projection`), draws the charts (:mod:`techreform.charts`), renders HTML and PDF (:mod:`.render`)
and writes ``outputs/reports/<YYYY-MM>/monthly_report_<YYYY-MM>.html`` and ``.pdf`` to the store
(:mod:`techreform.store`), each complete or absent. The same warehouse gives the same bytes (no time of the run in either file), so a
re-run rewrites identical files. The PDF is attached to the province's supervision e-mail and goes into the
bureau's extract. See ``docs/report.md``."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from techreform.config import Settings
from techreform.files import remove_partials
from techreform.options import EmailOptions
from techreform.periods import Period
from techreform.store import StorePath, exists, read_bytes, size, store_of, write_bytes, write_text


def report_paths(settings: Settings, period: Period | str) -> tuple[StorePath, StorePath]:
    """``(html, pdf)`` of the period's report in the store, ``outputs/reports/<YYYY-MM>/``."""
    p = str(Period.parse(period))
    folder = store_of(settings).reports_dir(p)
    return folder / f"monthly_report_{p}.html", folder / f"monthly_report_{p}.pdf"


def report_title(settings: Settings, period: Period | str) -> str:
    province = settings.options_for(EmailOptions).province_name
    return f"{province}企业技术改造统计监测月报（{Period.parse(period).label_zh}）"


def build_page(engine: Engine, settings: Settings, period: Period | str) -> str:
    """The report of ``period`` as HTML (what the PDF is rendered from)."""
    from techreform.report.content import build_content
    from techreform.report.render import render_html

    content = build_content(engine, Period.parse(period), settings.options_for(EmailOptions).province_name)
    return render_html(content, report_charts(content))


def report_charts(content) -> list[tuple[str, str]]:
    """The report's charts as ``(title, inline SVG)``, drawn by :mod:`techreform.charts`: the cumulative
    investment against the straight path to 5000亿元, the indicators' status by prefecture, the lights by
    prefecture."""
    from techreform import charts

    out: list[tuple[str, str]] = []
    inv = content.investment
    if inv is not None:
        out.append(
            (
                "图1 “十二五”技术改造投资累计与目标序时路径",
                charts.investment_trajectory(
                    inv.periods, inv.values, target_2015=inv.target_2015 or 5000.0, unit=inv.unit or "亿元"
                ),
            )
        )
    judged = [p for p in content.prefectures if p["judged"]]
    if judged:
        out.append(
            (
                "图2 各市州指标状态（有目标且有数据的指标）",
                charts.stacked_bar_chart(
                    [p["prefecture_name"] or p["prefecture_code"] for p in judged],
                    [
                        (
                            "已达标或达到序时目标",
                            [p["judged"] - p["lagging"] for p in judged],
                            charts.LIGHT_COLOURS["green"],
                        ),
                        ("滞后", [p["lagging"] for p in judged], charts.LIGHT_COLOURS["red"]),
                    ],
                    title="各市州指标状态",
                    unit="项指标",
                    decimals=0,
                ),
            )
        )
    if content.lights:
        lights = sorted(content.lights, key=lambda r: r["prefecture_code"] or "")
        out.append(
            (
                "图3 各市州督办项目灯色",
                charts.lights_by_prefecture(
                    [r["prefecture_name"] or r["prefecture_code"] or "未识别市州" for r in lights],
                    [r["green"] for r in lights],
                    [r["yellow"] for r in lights],
                    [r["red"] for r in lights],
                ),
            )
        )
    return out


def write_monthly_report(engine: Engine, settings: Settings, period: Period | str) -> dict:
    """Write the period's report (HTML and PDF); returns ``{"period", "html", "pdf", "bytes", "rendered"}``.
    The PDF is rendered from the HTML and the renderer alone, to the same bytes every time; the HTML names
    the renderer (``<meta name="generator">``, :func:`techreform.report.render.renderer`). So when the
    store already holds this HTML and its PDF, neither is written again and the PDF is not rendered
    (``rendered`` False); a new WeasyPrint or new fonts change the HTML and the PDF is rendered again."""
    from techreform.report.render import render_pdf

    period = Period.parse(period)
    html_path, pdf_path = report_paths(settings, period)
    remove_partials(html_path.parent)
    page = build_page(engine, settings, period)
    if exists(html_path) and exists(pdf_path) and read_bytes(html_path) == page.encode("utf-8"):
        pdf_size, rendered = size(pdf_path), False  # the store's size: the PDF itself is not downloaded
    else:
        pdf = render_pdf(page, report_title(settings, period), str(period))
        write_bytes(pdf_path, pdf)  # the PDF first: an HTML in the store always has its PDF beside it
        write_text(html_path, page)
        pdf_size, rendered = len(pdf), True
    return {
        "period": str(period),
        "html": str(html_path),
        "pdf": str(pdf_path),
        "bytes": pdf_size,
        "rendered": rendered,
    }
