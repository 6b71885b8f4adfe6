"""Generated files: layout, formats, headers, determinism."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pandas as pd

from generator_fixtures import SMALL, read_cells, small_run, truth  # noqa: F401  (fixture)
from techreform.forms import form as form_of
from techreform.generator import GeneratorConfig, generate
from techreform.reference import prefectures

PREFECTURES = tuple(prefectures())


def _digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_same_seed_gives_byte_identical_files_and_another_seed_does_not(tmp_path, small_run):
    config = SMALL.with_(first_period="2012-12", last_period="2013-01")
    generate(tmp_path / "a", config)
    generate(tmp_path / "b", config)
    a, b = _digest(tmp_path / "a"), _digest(tmp_path / "b")
    assert a == b and len(a) > 50
    assert any(name.endswith(".xlsx") for name in a)
    generate(tmp_path / "c", config.with_(seed=7))
    c = _digest(tmp_path / "c")
    assert set(c) != set(a) or any(c[k] != a[k] for k in a)


def test_layout_has_one_file_per_prefecture_and_month_for_e1_and_p1(small_run):
    landing = small_run / "landing"
    periods = ["2012-10", "2012-11", "2012-12", "2013-01", "2013-02", "2013-03"]
    for code, name in (("E1", "enterprise_monthly"), ("P1", "project_monthly")):
        assert sorted(p.name for p in (landing / name).iterdir()) == periods
        for period in periods:
            stems = sorted(p.stem for p in (landing / name / period).iterdir())
            assert stems == [f"{code}_{pc}_{period}" for pc in PREFECTURES]
    register = sorted(p.name for p in (landing / "enterprise_register").iterdir())
    assert register[0] == "2012-10" and "2013-01" in register
    for folder in (landing / "enterprise_register").iterdir():
        assert [p.stem for p in folder.iterdir()] == [f"R1_620000_{folder.name}"]
    assert [p.stem for p in (landing / "supervisors" / "2012-10").iterdir()] == ["S1_620000_2012-10"]


def test_files_are_in_the_format_and_header_style_files_csv_says(small_run):
    files = truth(small_run, "files.csv")
    assert set(files["format"]) == {"csv-utf8", "csv-utf8-sig", "csv-gb18030", "xlsx"}
    assert set(files["header_style"]) == {"zh", "canonical"}
    for row in files.itertuples():
        path = small_run / "landing" / form_of(row.form).name / row.period / row.file_name
        header, rows, detected = read_cells(path)
        assert detected == row.format, row.file_name
        if row.format == "csv-gb18030":
            data = path.read_bytes()
            assert not data.startswith(b"\xef\xbb\xbf")
        fields = form_of(row.form).fields
        expected = [f.name if row.header_style == "canonical" else f.header_zh for f in fields]
        assert header[: len(expected)] == expected
        assert header[len(expected) :] in ([], ["填表人"])
        assert len(rows) == int(row.rows)


def test_gb18030_files_really_are_not_utf8(small_run):
    files = truth(small_run, "files.csv")
    gbk = files[files["format"] == "csv-gb18030"]
    assert len(gbk)
    for row in gbk.itertuples():
        data = (small_run / "landing" / form_of(row.form).name / row.period / row.file_name).read_bytes()
        try:
            data.decode("utf-8")
            raise AssertionError(f"{row.file_name} decodes as UTF-8")
        except UnicodeDecodeError:
            pass
        assert (
            "统一社会信用代码" in data.decode("gb18030") or row.header_style == "canonical" or row.form in ("S1", "G1")
        )


def test_supervisors_use_only_the_reserved_domain_and_cover_every_prefecture(small_run):
    path = next((small_run / "landing" / "supervisors").rglob("S1_*"))
    header, rows, _ = read_cells(path)
    frame = pd.DataFrame([r[:4] for r in rows], columns=[form_of("S1").header_map()[h] for h in header[:4]])
    frame = frame.apply(lambda col: col.astype(str).str.strip())
    assert frame["email"].str.endswith("@gsgxw.example").all()
    contacts = frame[frame["role"].str.contains("统计联络员")]  # one statistics contact per prefecture (receipts)
    assert sorted(contacts["region_code"]) == sorted(PREFECTURES)
    counts = frame.drop(contacts.index)["region_code"].value_counts()
    assert counts["620000"] == 2
    assert all(2 <= counts[pc] <= 3 for pc in PREFECTURES)
    assert frame.drop(contacts.index)["role"].str.contains("督查|投资|办公室").all()


def test_summary_records_the_config_and_rows_per_period(small_run):
    summary = json.loads((small_run / "ground_truth" / "summary.json").read_text(encoding="utf-8"))
    assert summary["config"]["enterprises"] == 150 and summary["config"]["seed"] == GeneratorConfig().seed
    files = truth(small_run, "files.csv")
    for form, per_period in summary["rows_per_period"].items():
        sub = files[files["form"] == form]
        assert sum(per_period.values()) == sub["rows"].astype(int).sum()
    assert summary["rule_ids_missing"] == []
