"""Planted defects: every rule id appears, each planted row breaks the rules the ground truth names (and
no others), and rows without a planted defect break none, by an independent reading of the rules."""

from __future__ import annotations

import pytest

from generator_fixtures import SMALL, e1_broken, p1_broken, r1_broken, read_form, row_rules, small_run, truth  # noqa: F401
from techreform.codes import is_valid_uscc
from techreform.generator import RULE_IDS, generate


@pytest.fixture(scope="module")
def delivered(small_run):
    d = truth(small_run, "defects.csv")
    return d, read_form(small_run, "E1"), read_form(small_run, "P1"), read_form(small_run, "R1")


def test_every_rule_id_of_e1_p1_r1_is_planted_in_a_small_run(small_run):
    planted = set(truth(small_run, "defects.csv")["rule_id"])
    for form in ("E1", "P1", "R1"):
        missing = set(RULE_IDS[form]) - planted
        assert not missing, f"{form} rules never planted: {sorted(missing)}"


def test_defects_csv_has_the_agreed_columns_and_severities(small_run):
    d = truth(small_run, "defects.csv")
    assert list(d.columns) == [
        "form",
        "period",
        "file_name",
        "source_row",
        "record_key",
        "rule_id",
        "severity",
        "field",
        "description",
    ]
    assert (d["severity"] == d["rule_id"].str[3].map({"H": "hard", "S": "soft"})).all()
    assert (d["source_row"].astype(int) >= 2).all()
    assert (d["file_name"].str[:2] == d["form"]).all()


@pytest.mark.parametrize("form", ["E1", "P1", "R1"])
def test_each_row_breaks_exactly_the_rules_the_ground_truth_names(delivered, form):
    d, e1, p1, r1 = delivered
    broken = {"E1": lambda: e1_broken(e1, r1, p1, d), "P1": lambda: p1_broken(p1, r1, d), "R1": lambda: r1_broken(r1)}[
        form
    ]()
    planted = row_rules(d, form)
    assert set(planted) <= set(broken), "a defect points at a row that is not in the file"
    wrong = {
        key: (sorted(rules), sorted(planted.get(key, set())))
        for key, rules in broken.items()
        if rules != planted.get(key, set())
    }
    assert not wrong, f"{len(wrong)} rows disagree (checker, truth), e.g. {list(wrong.items())[:5]}"


def test_record_key_is_the_key_as_written_in_the_row(delivered):
    d, e1, p1, r1 = delivered
    frames = {"E1": (e1, "uscc"), "P1": (p1, "project_code"), "R1": (r1, "uscc")}
    for form, (frame, key) in frames.items():
        lookup = dict(zip(zip(frame["file_name"], frame["source_row"]), frame[key], strict=True))
        sub = d[d["form"] == form]
        for f, row, written in zip(sub["file_name"], sub["source_row"].astype(int), sub["record_key"], strict=True):
            assert lookup[(f, row)] == written


def test_every_uscc_is_valid_except_where_a_bad_code_was_planted(delivered):
    d, e1, p1, r1 = delivered
    planted = {
        (f, int(r))
        for f, r, rule in zip(d["file_name"], d["source_row"], d["rule_id"], strict=True)
        if rule in ("E1-H01", "R1-H01", "P1-H02")
    }
    for frame in (e1, p1, r1):
        for f, row, code in zip(frame["file_name"], frame["source_row"], frame["uscc"], strict=True):
            assert is_valid_uscc(code) == ((f, row) not in planted), (f, row, code)
    assert len(planted) >= 3


def test_files_csv_counts_hard_and_soft_rows_as_defects_csv_does(small_run):
    d, files = truth(small_run, "defects.csv"), truth(small_run, "files.csv")
    for row in files.itertuples():
        sub = d[d["file_name"] == row.file_name]
        hard = set(sub[sub["severity"] == "hard"]["source_row"])
        soft = set(sub[sub["severity"] == "soft"]["source_row"]) - hard
        assert (int(row.rows_hard), int(row.rows_soft_only)) == (len(hard), len(soft)), row.file_name


def test_a_run_without_defects_is_clean_by_every_rule(tmp_path):
    out = tmp_path / "clean"
    generate(out, SMALL.with_(defect_rate=0.0, first_period="2013-01", last_period="2013-04", projects=40))
    d = truth(out, "defects.csv")
    assert d.empty
    e1, p1, r1 = read_form(out, "E1"), read_form(out, "P1"), read_form(out, "R1")
    for broken in (e1_broken(e1, r1, p1, d), p1_broken(p1, r1, d), r1_broken(r1)):
        dirty = {k: v for k, v in broken.items() if v}
        assert not dirty, list(dirty.items())[:5]


@pytest.mark.parametrize(
    "window",
    [
        dict(enterprises=80, projects=30, first_period="2011-01", last_period="2011-03", seed=5),
        dict(enterprises=60, projects=40, first_period="2015-11", last_period="2016-02", seed=9, defect_rate=0.2),
    ],
    ids=["year-start", "across-years-many-defects"],
)
def test_other_windows_and_seeds_keep_truth_and_rules_in_agreement(tmp_path, window):
    generate(tmp_path, SMALL.with_(**window))
    d = truth(tmp_path, "defects.csv")
    e1, p1, r1 = read_form(tmp_path, "E1"), read_form(tmp_path, "P1"), read_form(tmp_path, "R1")
    for form, broken in (("E1", e1_broken(e1, r1, p1, d)), ("P1", p1_broken(p1, r1, d)), ("R1", r1_broken(r1))):
        planted = row_rules(d, form)
        wrong = [(k, sorted(v), sorted(planted.get(k, set()))) for k, v in broken.items() if v != planted.get(k, set())]
        assert not wrong, wrong[:5]
    lights, planted = truth(tmp_path, "lights.csv"), truth(tmp_path, "planted.csv")
    assert len(planted) >= 4
    for code in planted["project_code"]:
        assert (lights[lights["project_code"] == code]["light"] != "green").any(), code
