"""The monthly analysis report (统计监测月报): projections (pure), and the PDF as a person sees it — rendered
to PNG with pdftoppm, every page non-blank, its text (pdftotext) holding the headings and the warehouse's
numbers, the CJK fonts embedded, the same bytes on a re-run, attached to the province's e-mail and listed in
the bureau's extract — on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import replace
from email import message_from_bytes, policy
from pathlib import Path

import pytest
import sqlalchemy as sa

from techreform.periods import Period, period_range
from techreform.report.projection import LIKELY, POSSIBLE, UNLIKELY, project

PERIODS = [str(p) for p in period_range(Period(2012, 12), Period(2013, 3))]
LAST = PERIODS[-1]
POPPLER = all(shutil.which(tool) for tool in ("pdftoppm", "pdftotext", "pdffonts"))


def test_a_straight_series_projects_exactly_and_the_verdict_follows_the_target():
    periods = [Period(2011, m) for m in range(1, 13)]
    values = [100.0 * m for m in range(1, 13)]  # 100 a month: 6000 at k = 60
    p = project(periods, values, 5000.0, "up")
    assert p is not None and abs(p.value - 6000.0) < 1e-6 and abs(p.high - p.low) < 1e-6
    assert p.verdict == LIKELY
    assert project(periods, values, 7000.0, "up").verdict == UNLIKELY
    assert project(periods, [-v for v in values], -5000.0, "down").verdict == LIKELY


def test_a_noisy_series_gets_an_interval_around_the_trend_and_a_cautious_verdict():
    periods = [Period(2011, m) for m in range(1, 13)]
    values = [100.0 * m + (40 if m % 2 else -40) for m in range(1, 13)]
    p = project(periods, values, p_target := 5900.0, "up")
    assert p.low < p.value < p.high and p.high - p.low > 100
    assert p.low < p_target < p.value and p.verdict == POSSIBLE  # the trend reaches it, the interval not all
    assert project(periods[:2], values[:2], 6000.0, "up") is None  # too few values
    assert project(periods, values, None, "up") is None  # no target
    assert project([*periods, Period(2015, 12)], [*values, 4000.0], 5000.0, "up").verdict == "missed"


def test_the_interval_is_the_t_prediction_interval_and_the_quantile_is_scipy_stats_own():
    import math

    import numpy as np
    from scipy import stats

    from techreform.report.projection import t_quantile

    periods = [Period(2011, m) for m in range(1, 13)]
    values = [100.0 * m + (40 if m % 2 else -40) for m in range(1, 13)]
    p = project(periods, values, 5900.0, "up")
    ks = np.arange(1, 13, dtype=float)  # months since 2010-12
    slope, intercept = np.polyfit(ks, values, 1)
    s = math.sqrt(sum((v - (intercept + slope * k)) ** 2 for k, v in zip(ks, values)) / 10)
    # t(0.95, 10) from the tables: 1.8125
    half = 1.8124611228107335 * s * math.sqrt(1 + 1 / 12 + (60 - ks.mean()) ** 2 / ((ks - ks.mean()) ** 2).sum())
    assert math.isclose(p.high - p.value, half, rel_tol=1e-9) and math.isclose(p.value - p.low, half, rel_tol=1e-9)
    for df in (1, 2, 3, 10, 57, 1000):
        for q in (0.5, 0.9, 0.95, 0.975):
            assert t_quantile(q, df) == float(stats.t.ppf(q, df))
    assert math.isnan(t_quantile(0.95, 0)) and math.isnan(float(stats.t.ppf(0.95, 0)))


@pytest.fixture(scope="module")
def province(tmp_path_factory):
    from techreform.generator import GeneratorConfig, generate

    out = tmp_path_factory.mktemp("report_province")
    generate(
        out,
        GeneratorConfig(
            enterprises=80,
            projects=24,
            first_period=PERIODS[0],
            last_period=LAST,
            defect_rate=0.02,
            file_formats=(("csv-utf8-sig", 1.0),),
        ),
    )
    return out


@pytest.fixture
def reported(settings, province, tmp_path):
    """A warehouse the pipeline loaded for four months; the report of the last one written by its step."""
    from techreform.steps import STEPS, run_period

    landing = tmp_path / "landing"
    shutil.copytree(province / "landing", landing)
    settings = replace(settings, landing_dir=landing).with_options(validation={"hard_fail_threshold": 1.0})
    quick = [s for s in STEPS if s.name not in ("monthly_report", "extract", "notify")]
    for period in PERIODS[:-1]:
        run_period(settings, period, notify=False, steps=quick)
    summary = run_period(settings, LAST)  # every step: report, e-mails to the outbox, the extract
    return settings, summary


def _text(pdf: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True).stdout


@pytest.mark.slow
@pytest.mark.skipif(not POPPLER, reason="poppler-utils (pdftoppm, pdftotext, pdffonts) not installed: make system")
def test_the_report_reads_as_a_person_sees_it_and_a_rerun_writes_the_same_files(reported, tmp_path):
    from PIL import Image

    from techreform.numbers import format_number
    from techreform.report import write_monthly_report
    from techreform.warehouse import engine_for

    settings, summary = reported
    pdf, page = Path(summary["monthly_report"]["pdf"]), Path(summary["monthly_report"]["html"])
    pngs = tmp_path / "png"
    pngs.mkdir()
    subprocess.run(["pdftoppm", "-r", "50", "-png", str(pdf), str(pngs / "page")], check=True)
    images = sorted(pngs.glob("page-*.png"))
    assert len(images) >= 2
    for image in images:  # every page carries content; the last may hold only the end of a table
        grey = Image.open(image).convert("L")
        dark = sum(grey.histogram()[:200])
        share = 0.001 if image == images[-1] else 0.01
        assert dark > share * grey.width * grey.height, f"{image.name} is (nearly) blank"
        assert grey.width < grey.height  # portrait A4
    text = _text(pdf)
    for heading in (
        "企业技术改造统计监测月报",
        "一、本月概要",
        "三、主要指标完成情况",
        "四、2015年目标预测",
        "五、项目督办灯色",
    ):
        assert heading in text
    assert "最小二乘" in text and "预测区间" in text  # the method is stated
    engine = engine_for(settings.warehouse_url)
    with engine.connect() as conn:
        invest = conn.execute(
            sa.text(
                "select value from fct_indicator where period = :p and indicator_code = 'TR_INV_CUM' "
                "and level = 'province'"
            ),
            {"p": LAST},
        ).scalar_one()
        red = conn.execute(
            sa.text("select count(*) from sup_project_light where period = :p and light = 'red'"), {"p": LAST}
        ).scalar_one()
    assert format_number(invest) in text  # the warehouse's number
    assert "红灯项目由" in text and f"变为{red}个" in text
    fonts = subprocess.run(["pdffonts", str(pdf)], check=True, capture_output=True, text=True).stdout
    cjk = [line for line in fonts.splitlines() if "Noto-Sans-CJK-SC" in line]
    assert cjk and all(" yes yes " in line for line in cjk)  # embedded, as a subset
    before = (pdf.read_bytes(), page.read_bytes())
    assert write_monthly_report(engine, settings, LAST)["rendered"] is False  # the same HTML: not rendered again
    assert (pdf.read_bytes(), page.read_bytes()) == before
    pdf.unlink()
    assert write_monthly_report(engine, settings, LAST)["rendered"] is True  # rendered again: the same bytes,
    assert (pdf.read_bytes(), page.read_bytes()) == before  # idempotent: no time of the run inside

    outbox = settings.output_dir / "outbox" / LAST
    province_mail = next(outbox.glob("province-620000-*.eml"))
    message = message_from_bytes(province_mail.read_bytes(), policy=policy.default)
    attached = {part.get_filename(): part.get_content() for part in message.iter_attachments()}
    assert attached[f"技改统计监测月报_{LAST}.pdf"] == before[0]

    manifest_path = next((settings.output_dir / "extracts" / LAST).glob("r*/manifest.json"))
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    listed = {f["name"]: f for f in manifest["files"]}
    assert f"report/monthly_report_{LAST}.pdf" in listed and f"report/monthly_report_{LAST}.html" in listed
    assert (manifest_path.parent / "report" / f"monthly_report_{LAST}.pdf").read_bytes() == before[0]


def test_an_unchanged_report_is_not_rendered_again_unless_its_renderer_changed(sqlite_settings, monkeypatch):
    """A rerun with the same HTML and the same renderer renders and writes nothing, and takes the PDF's size
    from the store without reading the PDF; a new renderer (WeasyPrint, fonts) renders the PDF again."""
    import techreform.report as report
    from techreform import store
    from techreform.report import render, write_monthly_report
    from techreform.warehouse import engine_for

    engine = engine_for(sqlite_settings.warehouse_url)  # an empty warehouse: a short report
    first = write_monthly_report(engine, sqlite_settings, LAST)
    html, pdf = Path(first["html"]), Path(first["pdf"])
    assert first["rendered"] is True and f'<meta name="generator" content="{render.renderer()}">' in html.read_text()
    before = (html.read_bytes(), pdf.read_bytes())

    read: list = []
    monkeypatch.setattr(report, "read_bytes", lambda path: read.append(path) or store.read_bytes(path))
    again = write_monthly_report(engine, sqlite_settings, LAST)
    assert again["rendered"] is False and again["bytes"] == len(before[1])
    assert pdf not in read  # the size is the store's: the PDF is not downloaded
    assert (html.read_bytes(), pdf.read_bytes()) == before

    monkeypatch.setattr(render, "renderer", lambda: "WeasyPrint 99.0; pydyf 9.9; fonts of a newer package")
    upgraded = write_monthly_report(engine, sqlite_settings, LAST)
    assert upgraded["rendered"] is True and "WeasyPrint 99.0" in html.read_text()
    assert upgraded["bytes"] == pdf.stat().st_size
