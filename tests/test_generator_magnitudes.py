"""The default province has the real province's magnitudes, and sizes scale (slow: generates the default run)."""

from __future__ import annotations

import time

import pandas as pd
import pytest

from generator_fixtures import read_cells, truth
from techreform.generator import GeneratorConfig, generate

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def default_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("province_default")
    cpu = time.process_time()
    summary = generate(out, GeneratorConfig())
    return out, summary, time.process_time() - cpu


def _december_totals(out, fields):
    """Province sums of the December (full-year) E1 reports, read from the files, without rows with defects."""
    d = truth(out, "defects.csv")
    dirty = {(f, int(r)) for f, r in zip(d["file_name"], d["source_row"], strict=True)}
    totals = {}
    for year in range(2010, 2016):
        sums = dict.fromkeys(fields, 0.0)
        for path in sorted((out / "landing" / "enterprise_monthly" / f"{year}-12").iterdir()):
            header, rows, _ = read_cells(path)
            from generator_fixtures import normalise  # noqa: PLC0415
            from techreform.forms import form as form_of  # noqa: PLC0415

            names = [form_of("E1").header_map().get(h) for h in header]
            for k, row in enumerate(rows):
                if (path.name, k + 2) in dirty:
                    continue
                for name, cell in zip(names, row, strict=False):
                    if name in sums:
                        sums[name] += normalise(cell, "decimal") or 0.0
        totals[year] = sums
    return totals


def test_the_default_size_writes_every_file_of_its_months(default_run):
    # (its CPU time is measured by the fixture but not asserted: a loaded machine is no failure)
    _, summary, _cpu = default_run
    assert summary.files > 2000


def test_value_added_is_in_the_low_thousands_of_yi_and_investment_grows_about_30_percent(default_run):
    out, _, _ = default_run
    totals = _december_totals(out, ("value_added", "techreform_investment"))
    va = {y: t["value_added"] / 1e4 for y, t in totals.items()}  # 亿元
    inv = {y: t["techreform_investment"] / 1e4 for y, t in totals.items()}
    assert all(1500 <= v <= 2500 for v in va.values()), va
    assert 330 <= inv[2010] <= 520, inv
    growth = (inv[2015] / inv[2010]) ** (1 / 5) - 1
    assert 0.22 <= growth <= 0.38, inv


def test_about_two_thousand_enterprises_and_fifteen_hundred_projects(default_run):
    out, summary, _ = default_run
    files = truth(out, "files.csv")
    e1 = files[files["form"] == "E1"].assign(rows=lambda f: f["rows"].astype(int)).groupby("period")["rows"].sum()
    assert e1.drop([p for p in e1.index if p.endswith("-01")]).between(1800, 2500).all()
    lights = truth(out, "lights.csv")
    assert 1350 <= lights["project_code"].nunique() <= 1600
    assert (lights["light"] == "green").mean() > 0.9
    planted = truth(out, "planted.csv")
    assert 100 <= len(planted) <= 140
    assert summary.defects["E1"] >= 0.01 * summary.rows["E1"]


def test_lanzhou_holds_the_most_enterprises_and_jiayuguan_the_biggest(default_run):
    out, _, _ = default_run
    files = truth(out, "files.csv")
    june = files[(files["form"] == "E1") & (files["period"] == "2013-06")].assign(rows=lambda f: f["rows"].astype(int))
    by_pref = dict(zip(june["file_name"].str[3:9], june["rows"], strict=True))
    assert max(by_pref, key=by_pref.get) == "620100"
    assert by_pref["620200"] < by_pref["620500"]


def test_a_fifth_of_national_size_is_generated_whole(tmp_path):
    """100,000 enterprises for one month (a fifth of national size): every enterprise's row, the capital's
    file the largest. (How long it takes is measured, not asserted: make benchmark generates a national
    month and docs/performance.md records the time.)"""
    summary = generate(tmp_path, GeneratorConfig.national(enterprises=100_000, file_formats=(("csv-utf8", 1.0),)))
    assert 95_000 <= summary.rows["E1"] <= 110_000
    frame = pd.read_csv(
        next((tmp_path / "landing" / "enterprise_monthly" / "2013-06").glob("E1_620100_*")),
        dtype=str,
        keep_default_na=False,
    )
    assert len(frame) > 20_000
