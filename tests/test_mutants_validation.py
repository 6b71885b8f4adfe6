"""``techreform.validation`` (validate_staged, record_results) and ``validation.suites`` pinned directly
on a few rows and a tiny warehouse (issue 16, mutation testing): what a failure row says, its details
(the unit, its prefecture, the values as received), the rule counts in suite order, explained soft
failures, the empty delivery, the replacement of one (form, period) in ``dq_rule_result`` and
``dq_row_failure``; the suites' rules, texts and the columns handed to GX. ``tests/test_validation_rules.py``
and ``test_validation_explanations.py`` reach the same code through every rule, seconds per test."""

from __future__ import annotations

import json
import logging
import os
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa

from techreform.forms import FORMS
from techreform.ingest import gone_from_raw_zone
from techreform.periods import Period
from techreform.validation import ValidationResult, _parameters, outcomes, record_results, suites, validate_staged
from techreform.warehouse import insert_rows
from validation_fixtures import (
    add_register,
    e1_row,
    prepare_warehouse,
    r1_row,
    sha_of,
    staged,
    uscc,
    write_explanations,
)

E1 = FORMS["E1"]
JUNE = "2013-06"


@pytest.fixture
def engine(settings):
    return prepare_warehouse(settings.warehouse_url)


@pytest.fixture
def quiet(settings):
    """Settings without Data Docs."""
    return settings.with_options(validation={"data_docs": False})


KEPT = ("E1-H03", "E1-H06", "E1-H07", "E1-H08", "E1-S01", "E1-S03", "E1-S09")


@pytest.fixture
def few_rules(monkeypatch):
    """E1's suite cut to the rules of KEPT (GX in about a second instead of seconds: the cross-period and
    HB rules are what cost)."""
    whole = suites.suite_dict

    def cut(form):
        spec = whole(form)
        return {**spec, "expectations": [e for e in spec["expectations"] if e["meta"]["rule_id"] in KEPT]}

    monkeypatch.setattr(suites, "suite_dict", cut)


def _select(engine, sql: str) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(sa.text(sql))]


def _explain(engine, n: int, rule: str, period: str = JUNE) -> None:
    with engine.begin() as conn:
        insert_rows(
            conn,
            "dim_explanation",
            [
                {
                    "delivery_period": period,
                    "file_name": "说明.csv",
                    "source_row": 2,
                    "form": "E1",
                    "record_key": uscc(n),
                    "period": period,
                    "rule_id": rule,
                    "explanation": "季节性",
                    "confirmed_by": "张三",
                }
            ],
        )


def test_validate_staged_reports_each_failure_with_its_unit_prefecture_and_values_as_received(engine, quiet, few_rules):
    with engine.begin() as conn:
        add_register(conn, "2013-01", [r1_row(n) for n in (1, 2, 3)])
    _explain(engine, 3, "E1-S01")
    rows = {
        "甲.csv": [e1_row(1), e1_row(2, value_added=2000.0)],  # 2: E1-S01 (value added above gross output)
        "乙.csv": [e1_row(3, value_added=2000.0), e1_row(4, enterprise_name=None, employees=-3.0)],
        "丙.csv": [e1_row(1, period="2013-05")],  # E1-H06: not the folder's period
    }
    frame = staged("E1", JUNE, rows)
    with engine.begin() as conn:
        result = validate_staged(conn, quiet, E1, Period(2013, 6), frame, read_explanations=False)
    failures = result.failures
    assert list(failures.columns) == outcomes.FAILURE_COLUMNS
    got = {(r.file_sha256, r.source_row, r.rule_id): (r.severity, r.field, r.explained) for r in failures.itertuples()}
    a, b = sha_of(JUNE, "甲.csv"), sha_of(JUNE, "乙.csv")
    assert got[(a, 3, "E1-S01")] == ("soft", "value_added,gross_output", False)
    assert got[(b, 2, "E1-S01")] == ("soft", "value_added,gross_output", True)  # explained
    assert {k[2] for k in got if k[:2] == (b, 3)} == {"E1-H03", "E1-H07", "E1-H08", "E1-S03", "E1-S09"}
    assert got[(b, 3, "E1-H07")][0] == "hard" and got[(b, 3, "E1-H07")][2] is False
    assert not any(k[:2] == (a, 2) for k in got)
    assert {k[2] for k in got if k[0] == sha_of(JUNE, "丙.csv")} == {"E1-H06"}
    negative = failures[(failures["file_sha256"] == b) & (failures["rule_id"] == "E1-H07")]["message"].item()
    assert E1.field("employees").label in negative  # the offending fields named by their labels
    assert failures["source_row"].dtype.kind == "i" and failures["explained"].dtype == bool
    message = failures[(failures["file_sha256"] == a) & (failures["rule_id"] == "E1-S01")]["message"].item()
    assert "工业增加值" in message and "2000" in message
    details = result.details
    assert list(details.columns) == outcomes.DETAIL_COLUMNS and details.index.equals(failures.index)
    mine = details[(details["file_sha256"] == a) & (details["rule_id"] == "E1-S01")].iloc[0]
    assert (mine["form"], mine["period"], mine["file_name"], mine["source_row"]) == ("E1", JUNE, "甲.csv", 3)
    assert (mine["record_key"], mine["unit_name"], mine["prefecture_code"]) == (uscc(2), "兰州测试企业2", "620100")
    received = json.loads(mine["received_json"])
    assert received == {E1.field("value_added").label: "2000.0", E1.field("gross_output").label: "1000.0"}
    nameless = details[(details["file_sha256"] == b) & (details["rule_id"] == "E1-H03")].iloc[0]
    assert (nameless["unit_name"], nameless["file_name"], nameless["source_row"]) == ("", "乙.csv", 3)
    counts = result.rule_counts
    assert list(counts.columns) == outcomes.COUNT_COLUMNS
    assert list(counts["rule_id"]) == list(KEPT)
    assert list(counts["severity"]) == [r.severity for r in suites.rules_of(E1).values()]
    by_rule = counts.set_index("rule_id")
    assert (by_rule.at["E1-S01", "evaluated"], by_rule.at["E1-S01", "failed"]) == (5, 2)
    assert by_rule.at["E1-H07", "failed"] == 1 and by_rule["evaluated"].dtype.kind == "i"
    assert result.gx_result is not None
    assert _select(engine, "select form, period from dq_review_check") == [{"form": "E1", "period": JUNE}]  # kept
    # the same rows against the same context: the results are reused (no GX result), the same failures
    with engine.begin() as conn:
        again = validate_staged(conn, quiet, E1, Period(2013, 6), staged("E1", JUNE, rows), read_explanations=False)
    assert again.gx_result is None
    pd.testing.assert_frame_equal(again.failures, failures)
    pd.testing.assert_frame_equal(again.rule_counts, counts)
    # a code list changed (the suite's parameters): checked again
    with engine.begin() as conn:
        conn.execute(sa.text("update dim_division set valid_to = '2013-01' where code = '620102'"))
        changed = validate_staged(conn, quiet, E1, Period(2013, 6), staged("E1", JUNE, rows), read_explanations=False)
    assert changed.gx_result is not None


def test_the_rows_as_received_of_the_failing_rows_are_filled_in_the_callers_frame(engine, quiet, few_rules):
    """Rows staged without their JSON (as the load stages them): only the failing ones are read back
    from the raw zone (here gone: the visible marker naming the file), in the caller's frame too."""
    frame = staged("E1", JUNE, {"甲.csv": [e1_row(1), e1_row(2, value_added=2000.0)]})
    frame["raw_json"] = ""
    with engine.begin() as conn:
        result = validate_staged(conn, quiet, E1, JUNE, frame, read_explanations=False)
    assert frame["raw_json"].iloc[0] == ""
    marker = json.loads(frame["raw_json"].iloc[1])  # names the file in the form's folder of the period
    assert list(marker.values())[0].endswith(f"raw/enterprise_monthly/{JUNE}/{sha_of(JUNE, '甲.csv')}/甲.csv")
    assert frame["raw_json"].iloc[1].startswith(gone_from_raw_zone("")[:-2])
    (received,) = result.details["received_json"]
    assert json.loads(received) == {E1.field("value_added").label: 2000.0, E1.field("gross_output").label: 1000.0}


def test_a_frame_without_file_names_or_rows_as_received_gives_empty_names_and_the_staged_values(
    engine, quiet, few_rules
):
    frame = staged("E1", JUNE, {"甲.csv": [e1_row(2, value_added=2000.0, region_code="620302")]})
    frame = frame.drop(columns=["file_name", "raw_json"])
    with engine.begin() as conn:
        result = validate_staged(conn, quiet, E1, JUNE, frame, read_explanations=False)
    s01 = result.details[result.details["rule_id"] == "E1-S01"].iloc[0]
    assert (s01["file_name"], s01["prefecture_code"]) == ("", "620300")  # the region's prefecture first
    assert json.loads(s01["received_json"]) == {
        E1.field("value_added").label: 2000.0,
        E1.field("gross_output").label: 1000.0,
    }


def test_the_data_docs_results_are_kept_for_a_run_of_the_suite_only(engine, settings, quiet, few_rules):
    from techreform.validation.datadocs import results_dir

    rows = {"甲.csv": [e1_row(2, value_added=2000.0)]}
    kept = results_dir(settings, JUNE) / "E1.json"
    with engine.begin() as conn:
        validate_staged(conn, quiet, E1, JUNE, staged("E1", JUNE, rows), read_explanations=False)
    assert not kept.exists()  # Data Docs off
    with engine.begin() as conn:  # a change of rows: the suite runs
        validate_staged(
            conn, settings, E1, JUNE, staged("E1", JUNE, {"乙.csv": rows["甲.csv"]}), read_explanations=False
        )
    document = json.loads(kept.read_text(encoding="utf-8"))
    assert (document["meta"]["form"], document["meta"]["period"]) == ("E1", JUNE)
    assert len(document["results"]) == sum(1 for _ in suites.suite_dict(E1)["expectations"])
    kept.unlink()
    with engine.begin() as conn:  # the same rows: results reused, their Data Docs were written then
        validate_staged(
            conn, settings, E1, JUNE, staged("E1", JUNE, {"乙.csv": rows["甲.csv"]}), read_explanations=False
        )
    assert not kept.exists()


def test_validate_staged_reads_the_explanations_delivered_unless_told_not_to(engine, quiet, few_rules):
    rows = {"甲.csv": [e1_row(1, value_added=2000.0)]}
    folder = quiet.landing_dir / "explanations" / JUNE
    write_explanations(folder / "兰州.csv", [(uscc(1), "", JUNE, "E1-S01", "委托加工，已核实", "张三")])
    with engine.begin() as conn:
        held = validate_staged(conn, quiet, E1, JUNE, staged("E1", JUNE, rows), read_explanations=False)
    assert held.failures["explained"].tolist() == [False]  # the warehouse holds none yet
    with engine.begin() as conn:
        read = validate_staged(conn, quiet, E1, JUNE, staged("E1", JUNE, rows))
    assert read.failures[["rule_id", "explained"]].values.tolist() == [["E1-S01", True]]


def test_an_empty_delivery_counts_every_rule_at_zero_and_a_form_without_suite_is_refused(engine, quiet):
    with engine.begin() as conn:
        empty = validate_staged(conn, quiet, E1, JUNE, staged("E1", JUNE, {}))
        with pytest.raises(ValueError, match="no validation suite for form S1"):
            validate_staged(conn, quiet, FORMS["S1"], JUNE, staged("E1", JUNE, {}))
    assert empty.failures.empty and list(empty.failures.columns) == outcomes.FAILURE_COLUMNS
    assert empty.rule_counts.to_dict("records") == [
        {"rule_id": r.rule_id, "severity": r.severity, "evaluated": 0, "failed": 0}
        for r in suites.rules_of(E1).values()
    ]
    assert list(empty.rule_counts.columns) == outcomes.COUNT_COLUMNS


def test_the_suite_parameters_are_the_code_lists_with_their_validity_and_the_delivery_period(engine):
    with engine.connect() as conn:
        parameters = _parameters(conn, Period(2013, 6))
    assert parameters["delivery_period_set"] == [JUNE]
    counties = {c: (f, t) for c, f, t in parameters["county_divisions"]}
    assert counties["620102"] == (None, None)
    assert (counties["620171"], counties["620824"]) == (
        ("2012-08", None),
        (None, "2018-06"),
    )  # 兰州新区; 华亭 became a city
    assert all(f is None or (isinstance(f, str) and f) for f, _ in counties.values())
    assert any(t is not None for _, t in counties.values()) and all(t is None or t for _, t in counties.values())
    assert "620100" not in counties
    every = {c: (f, t) for c, f, t in parameters["gansu_divisions"]}
    assert every["620100"] == (None, None) and every["620102"] == counties["620102"]
    assert (every["620171"], every["620824"]) == (("2012-08", None), (None, "2018-06"))
    assert set(counties) < set(every)
    assert "33" in parameters["industry_divisions"] and all(
        isinstance(d, str) for d in parameters["industry_divisions"]
    )


def _result(rules: list[tuple[str, int, int]], failures: list[dict[str, Any]], details: list[dict[str, Any]]):
    counts = pd.DataFrame(
        [{"rule_id": r, "severity": "soft" if "-S" in r else "hard", "evaluated": e, "failed": f} for r, e, f in rules],
        columns=outcomes.COUNT_COLUMNS,
    )
    return ValidationResult(
        pd.DataFrame(failures, columns=outcomes.FAILURE_COLUMNS),
        counts,
        pd.DataFrame(details, columns=outcomes.DETAIL_COLUMNS),
    )


def _failure(row: int, rule: str, explained: bool = False) -> dict[str, Any]:
    severity = "soft" if "-S" in rule else "hard"
    return {
        "file_sha256": "a" * 64,
        "source_row": row,
        "rule_id": rule,
        "severity": severity,
        "field": "profit",
        "message": f"{rule} 消息",
        "explained": explained,
    }


def test_record_results_replaces_the_form_and_periods_counts_and_failures(engine):
    full = {
        "file_name": "甲.csv",
        "record_key": uscc(1),
        "unit_name": "兰州测试企业1",
        "prefecture_code": "620100",
        "received_json": '{"利润总额": "x"}',
    }
    blank = {
        "file_name": None,
        "record_key": float("nan"),
        "unit_name": None,
        "prefecture_code": None,
        "received_json": None,
    }
    with engine.begin() as conn:
        record_results(conn, E1, "2013-05", _result([("E1-H01", 3, 0)], [_failure(2, "E1-H01")], [full]))
        p1 = {**_failure(7, "P1-H01"), "file_sha256": "b" * 64}
        record_results(conn, FORMS["P1"], JUNE, _result([("P1-H01", 1, 1)], [p1], [full]))
        record_results(
            conn, E1, JUNE, _result([("E1-H01", 9, 9)], [_failure(2, "E1-H01"), _failure(5, "E1-H01")], [full, full])
        )
        record_results(
            conn,
            E1,
            Period(2013, 6),
            _result(
                [("E1-H01", 5, 1), ("E1-S02", 5, 1)],
                [_failure(3, "E1-H01"), _failure(4, "E1-S02", True)],
                [full, blank],
            ),
        )
    counts = _select(engine, "select * from dq_rule_result order by form, period, rule_id")
    assert [(r["form"], r["period"], r["rule_id"], r["severity"], r["evaluated"], r["failed"]) for r in counts] == [
        ("E1", "2013-05", "E1-H01", "hard", 3, 0),
        ("E1", JUNE, "E1-H01", "hard", 5, 1),
        ("E1", JUNE, "E1-S02", "soft", 5, 1),
        ("P1", JUNE, "P1-H01", "hard", 1, 1),
    ]
    assert _select(engine, "select form, source_row from dq_row_failure where form = 'P1'") == [
        {"form": "P1", "source_row": 7}
    ]
    stored = _select(
        engine, "select * from dq_row_failure where period = '2013-06' and form = 'E1' order by source_row"
    )
    assert stored == [
        {
            "form": "E1",
            "period": JUNE,
            "file_sha256": "a" * 64,
            "file_name": "甲.csv",
            "source_row": 3,
            "record_key": uscc(1),
            "unit_name": "兰州测试企业1",
            "prefecture_code": "620100",
            "rule_id": "E1-H01",
            "severity": "hard",
            "field": "profit",
            "message": "E1-H01 消息",
            "received_json": '{"利润总额": "x"}',
            "explained": 0,
        },
        {
            "form": "E1",
            "period": JUNE,
            "file_sha256": "a" * 64,
            "file_name": "",
            "source_row": 4,
            "record_key": "",
            "unit_name": "",
            "prefecture_code": "",
            "rule_id": "E1-S02",
            "severity": "soft",
            "field": "profit",
            "message": "E1-S02 消息",
            "received_json": "{}",
            "explained": 1,
        },
    ]
    assert [
        r["source_row"] for r in _select(engine, "select source_row from dq_row_failure where period = '2013-05'")
    ] == [2]


def test_failures_recorded_without_details_are_stored_with_empty_details_on_both_engines(settings, pg_url, tmp_path):
    """Not marked ``postgres``: the PostgreSQL round runs in the mutation group, so a table name that only
    SQLite would match case-insensitively (SQLAlchemy quotes a name in capitals) fails there."""
    for url in (settings.warehouse_url, pg_url):
        engine = prepare_warehouse(url)
        result = ValidationResult(
            pd.DataFrame([_failure(3, "E1-H01")], columns=outcomes.FAILURE_COLUMNS),
            _result([("E1-H01", 2, 1)], [], []).rule_counts,
        )
        for _ in range(2):
            with engine.begin() as conn:
                record_results(conn, E1, JUNE, result)
        (row,) = _select(
            engine, "select file_name, record_key, unit_name, prefecture_code, received_json from dq_row_failure"
        )
        assert row == {"file_name": "", "record_key": "", "unit_name": "", "prefecture_code": "", "received_json": "{}"}
        assert _select(engine, "select count(*) as n from dq_rule_result") == [{"n": 1}]


def test_rules_of_a_suite_in_suite_order_with_their_severity():
    rules = suites.rules_of(E1)
    assert list(rules)[:3] == ["E1-H01", "E1-H02", "E1-H03"] and list(rules)[-1] == "E1-S10"
    assert len(rules) == 18 and rules["E1-H07"] == suites.RuleSpec("E1-H07", "hard")
    assert rules["E1-S01"].severity == "soft"
    assert suites.suite_path(E1).name == "enterprise_monthly.json"


def test_a_suite_file_changed_on_disk_is_read_again(monkeypatch, tmp_path):
    source = suites.suite_path(E1)
    monkeypatch.setattr(suites, "EXPECTATIONS_DIR", tmp_path)
    copy = tmp_path / source.name
    spec = json.loads(source.read_text(encoding="utf-8"))
    copy.write_text(json.dumps(spec, ensure_ascii=False), encoding="utf-8")
    assert "E1-S10" in suites.rules_of(E1)
    spec["expectations"] = [e for e in spec["expectations"] if e["meta"]["rule_id"] != "E1-S10"]
    copy.write_text(json.dumps(spec, ensure_ascii=False), encoding="utf-8")
    os.utime(copy, (copy.stat().st_atime, copy.stat().st_mtime + 10))
    assert "E1-S10" not in suites.rules_of(E1) and len(suites.rules_of(E1)) == 17


def test_the_chinese_text_of_a_rule_for_readers():
    assert suites.rule_text_zh({"text_zh": "说明", "message_zh": "模板 {x}"}) == "说明"
    assert (
        suites.rule_text_zh({"message_zh": "{uscc} 与 {_row_fields} 为 {value}", "check": "c"}) == "… 与 相关字段 为 …"
    )
    assert suites.rule_text_zh({"text_zh": "", "check": "检查 {a}", "rule_id": "X"}) == "检查 …"
    assert suites.rule_text_zh({"rule_id": "E1-H01"}) == "E1-H01"
    assert suites.rule_text_zh({}) == ""
    texts = suites.rule_texts_zh(E1)
    assert list(texts) == list(suites.rules_of(E1))
    assert texts["E1-H03"] == "企业名称 (enterprise_name) 为空；企业名称 (enterprise_name) 为空白"
    assert texts["E1-S03"] == "从业人员平均人数 (employees) 为 …，应至少为1人"


def test_only_the_columns_the_expectations_read_go_to_gx_in_frame_order():
    frame = pd.DataFrame(columns=["alpha", "beta", "gamma", "delta", "eps", "phi", "region_code", "omega", "XX"])
    expectations = [
        {"kwargs": {"column": "gamma", "column_A": "alpha", "column_B": 3}},
        {"kwargs": {"column_B": "eps", "column_list": ["phi"], "row_condition": "region_code.notnull() & beta > 0"}},
        {"kwargs": {"column": "zz"}},
    ]
    assert suites.columns_of(expectations, frame) == ["alpha", "beta", "gamma", "eps", "phi", "region_code"]
    assert suites.columns_of([{"kwargs": {"row_condition": None}}], frame) == []


def test_an_exception_reported_by_gx_is_found_flat_or_per_metric():
    assert suites._raised(None) is None and suites._raised({}) is None
    assert suites._raised({"raised_exception": True, "exception_message": "坏"}) == "坏"
    assert suites._raised({"raised_exception": False, "m": {"raised_exception": False}}) is None
    assert suites._raised({"m": "x", "n": {"raised_exception": True, "exception_message": "坏了"}}) == "坏了"


def test_run_suite_keeps_the_severities_asked_for_and_fails_loudly_on_a_broken_expectation(few_rules):
    frame = staged("E1", JUNE, {"a.csv": [e1_row(1, value_added=2000.0, employees=0.5)]})
    names = ("great_expectations", "great_expectations.core", "great_expectations.data_context")
    for name in names:
        logging.getLogger(name).setLevel(logging.DEBUG)
    hard = suites.run_suite(E1, frame, {"delivery_period_set": ["2013-05"]}, ("hard",))
    assert [logging.getLogger(name).level for name in names] == [logging.WARNING] * 3  # GX kept quiet
    assert {r.expectation_config.meta["rule_id"] for r in hard.results} == {"E1-H03", "E1-H06", "E1-H07", "E1-H08"}
    assert {r.expectation_config.meta["rule_id"] for r in hard.results if not r.success} == {"E1-H06", "E1-H07"}
    registered = frame.assign(_in_register=1, _register_region_code="620102", _register_industry_code="3311")
    both = suites.run_suite(E1, registered, {"delivery_period_set": [JUNE]})
    assert {r.expectation_config.meta["rule_id"] for r in both.results} == set(KEPT)
    failed = {r.expectation_config.meta["rule_id"] for r in both.results if not r.success}
    assert failed == {"E1-S01", "E1-S03", "E1-H07"}
    with pytest.raises(RuntimeError, match=r"^E1: expectation \S+ of rule E1-H0[378] could not be evaluated: "):
        suites.run_suite(
            E1, frame.drop(columns=["employees", "enterprise_name"]), {"delivery_period_set": [JUNE]}, ("hard",)
        )


def _one_batch(form, frame, parameters):
    """The suite validated as GX validates it on one batch of every column it reads (how run_suite ran
    it before it gave each expectation a batch of its own columns): the reference of the next test."""
    import great_expectations as gx
    from great_expectations.core import ExpectationSuite

    spec = suites.suite_dict(form)
    context = gx.get_context(mode="ephemeral")
    source = f"staged_{form.code}"  # the names run_suite gives (they are in each result's kwargs)
    asset = context.data_sources.add_pandas(source).add_dataframe_asset(form.name)
    batch = asset.add_batch_definition_whole_dataframe("delivery").get_batch(
        batch_parameters={"dataframe": frame[suites.columns_of(spec["expectations"], frame)]}
    )
    suite = ExpectationSuite(name=spec["name"], expectations=spec["expectations"])
    try:
        return batch.validate(suite, result_format=suites.RESULT_FORMAT, expectation_parameters=parameters)
    finally:
        context.data_sources.delete(source)


def test_each_expectation_on_its_own_columns_gives_gx_s_results_of_one_batch_in_the_suite_s_order(few_rules):
    """run_suite validates each expectation on a batch of only the columns it reads (GX copies every
    column of its batch for each row condition): every expectation's result, the statistics and the
    success are those of one batch of all the columns, and the results follow the suite."""
    rows = [
        e1_row(1, value_added=2000.0, employees=0.5),  # E1-S01 (value added above output), E1-H07, E1-S03
        e1_row(2, enterprise_name=" "),  # E1-H03
        e1_row(3, profit=-5000.0),
        e1_row(4),
    ]
    frame = staged("E1", JUNE, {"a.csv": rows[:2], "b.csv": rows[2:]}).assign(
        _in_register=[1, 1, 0, 1], _register_region_code="620102", _register_industry_code="3311"
    )
    parameters = {"delivery_period_set": [JUNE]}
    ours = suites.run_suite(E1, frame, parameters)
    reference = _one_batch(E1, frame, parameters)

    def documents(result):
        return sorted(json.dumps(r.to_json_dict(), sort_keys=True, default=str) for r in result.results)

    assert documents(ours) == documents(reference)
    assert any(not r.success for r in ours.results) and any(r.success for r in ours.results)
    assert (ours.success, ours.statistics) == (reference.success, reference.statistics)
    suite_order = [(e["type"], e["meta"]["rule_id"]) for e in suites.suite_dict(E1)["expectations"]]
    assert [(r.expectation_config.type, r.expectation_config.meta["rule_id"]) for r in ours.results] == suite_order
    assert ours.meta["active_batch_definition"] == reference.meta["active_batch_definition"]
