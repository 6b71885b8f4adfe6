"""The quality gate (质量闸门) on a tiny warehouse, pinned directly (issue 16, mutation testing of
``techreform.validation.gate``): the quarantined share against its threshold, every delivery problem
(all files rejected, zero accepted rows, nothing delivered, no snapshot in force), the completeness
floor, and the one line naming the period and every reason that people read in the alert.
``tests/test_validation_pipeline.py`` and ``test_faults.py`` reach it through the whole chain."""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from techreform.forms import FORMS
from techreform.periods import Period
from techreform.validation.gate import (
    DeliveryTooBroken,
    GateFailed,
    check_gate,
    check_period,
    completeness_problem,
    delivery_problems,
    quarantine_share,
)
from techreform.warehouse import insert_rows
from validation_fixtures import add_register, prepare_warehouse, r1_row

E1, P1, R1, S1, A1 = (FORMS[c] for c in ("E1", "P1", "R1", "S1", "A1"))
JUNE = "2013-06"


@pytest.fixture
def engine(settings):
    return prepare_warehouse(settings.warehouse_url)


def _outcomes(engine, form: str, period: str, accepted: int, quarantined: int, sha: str = "a" * 64) -> None:
    outcomes = ["accepted"] * accepted + ["quarantined"] * quarantined
    with engine.begin() as conn:
        insert_rows(
            conn,
            "etl_row_outcome",
            [
                {
                    "form": form,
                    "period": period,
                    "file_sha256": sha,
                    "source_row": row,
                    "record_key": f"k{row}",
                    "prefecture_code": "620100",
                    "outcome": outcome,
                    "review_status": "quarantined" if outcome == "quarantined" else "ok",
                    "rule_ids": "",
                    "superseded": 0,
                }
                for row, outcome in enumerate(outcomes, start=2)
            ],
        )


def _files(engine, form: str, period: str, files: Iterable[tuple[str, str, str]]) -> None:
    """``files``: (file name, status, message), in delivery order."""
    with engine.begin() as conn:
        insert_rows(
            conn,
            "etl_file_log",
            [
                {
                    "form": form,
                    "period": period,
                    "file_sha256": f"{seq:064d}",
                    "file_name": name,
                    "raw_path": f"raw/{name}",
                    "bytes": 10,
                    "received_at": "2013-07-01T00:00:00+00:00",
                    "delivery_seq": seq,
                    "encoding": "utf-8",
                    "status": status,
                    "rows_received": 0,
                    "extra_columns": "",
                    "message": message,
                }
                for seq, (name, status, message) in enumerate(files, start=1)
            ],
        )


def _completeness(engine, period: str, expected: int, received: int, rate: float | None, code="620000") -> None:
    with engine.begin() as conn:
        insert_rows(
            conn,
            "dq_completeness",
            [
                {
                    "period": period,
                    "prefecture_code": code,
                    "prefecture_name": "甘肃省",
                    "expected": expected,
                    "received": received,
                    "missing": expected - received,
                    "rate": rate,
                }
            ],
        )


def _supervisors(engine, snapshot: str) -> None:
    with engine.begin() as conn:
        insert_rows(
            conn,
            "dim_supervisor",
            [{"snapshot_period": snapshot, "region_code": "620100", "name": "王五", "email": "w@example.cn"}],
        )


def _complete(engine, period: str = JUNE) -> None:
    """Every required form of ``period`` delivered and usable; the province's completeness 100 %."""
    for form in ("E1", "P1"):
        _files(engine, form, period, [(f"{form}.csv", "loaded", "")])
        _outcomes(engine, form, period, accepted=5, quarantined=0)
    with engine.begin() as conn:
        add_register(conn, "2013-01", [r1_row(1)])
    _supervisors(engine, "2013-01")
    _completeness(engine, period, expected=10, received=10, rate=1.0)


def test_the_quarantine_share_counts_the_forms_rows_of_the_period_only(engine):
    _outcomes(engine, "E1", JUNE, accepted=3, quarantined=2)
    _outcomes(engine, "E1", "2013-05", accepted=1, quarantined=7)
    _outcomes(engine, "P1", JUNE, accepted=0, quarantined=4)
    assert quarantine_share(engine, E1, JUNE) == (5, 2)
    assert quarantine_share(engine, E1, Period(2013, 5)) == (8, 7)  # a Period or its text
    assert quarantine_share(engine, P1, JUNE) == (4, 4)
    assert quarantine_share(engine, R1, JUNE) == (0, 0)


def test_a_share_at_the_threshold_passes_and_above_it_fails_naming_form_counts_share_and_threshold(engine, settings):
    _outcomes(engine, "E1", JUNE, accepted=4, quarantined=1)  # 20 %: at the default threshold
    check_gate(engine, settings, E1, JUNE)
    _outcomes(engine, "E1", JUNE, accepted=0, quarantined=1, sha="b" * 64)  # 2 of 6 = 33.3 %
    with pytest.raises(DeliveryTooBroken) as broken:
        check_gate(engine, settings, E1, Period(2013, 6))
    reason = (
        "E1 企业技术改造及主要经济指标月报 2013-06: 2 of 6 rows quarantined (33.3%) exceeds the threshold 20% — "
        "the delivery is broken upstream; 报表 E1 2013-06 强制性审核未通过行占 33.3%，超过阈值 20%"
    )
    exc = broken.value
    assert str(exc) == reason and exc.args == (reason,)
    assert exc.reasons == [reason] and exc.period == "2013-06"
    assert (exc.form, exc.received, exc.quarantined, exc.threshold) == (E1, 6, 2, 0.2)
    assert exc.share == pytest.approx(1 / 3)
    assert isinstance(exc, GateFailed) and exc.verdict is True
    check_gate(engine, settings.with_options(validation={"hard_fail_threshold": 0.4}), E1, JUNE)


def test_a_form_without_rows_passes_the_share_check(engine, settings):
    check_gate(engine, settings.with_options(validation={"hard_fail_threshold": 0.0}), P1, JUNE)


def test_the_gate_failure_names_the_period_and_every_reason_in_one_line():
    exc = GateFailed("2013-06", ("甲", "乙"))
    assert str(exc) == "2013-06: quality gate failed, nothing computed or e-mailed — 质量闸门未通过：甲; 乙"
    assert exc.period == "2013-06" and exc.reasons == ["甲", "乙"] and GateFailed.verdict is True


def test_a_usable_delivery_has_no_problem(engine, settings):
    _complete(engine)
    for form in (E1, P1, R1, S1):
        assert delivery_problems(engine, settings, form, JUNE) == []


def test_all_files_rejected_names_their_count_and_the_first_ones_message_or_name(engine, settings):
    _files(engine, "E1", JUNE, [("a.csv", "rejected", "a.csv: 不是 UTF-8"), ("b.csv", "rejected", "")])
    _files(engine, "P1", JUNE, [("p.csv", "rejected", "")])
    assert delivery_problems(engine, settings, E1, JUNE) == [
        "E1 企业技术改造及主要经济指标月报 2013-06: all 2 file(s) rejected (first: a.csv: 不是 UTF-8) — 全部文件被拒收"
    ]
    assert delivery_problems(engine, settings, P1, Period(2013, 6)) == [
        "P1 技术改造项目进展月报 2013-06: all 1 file(s) rejected (first: p.csv) — 全部文件被拒收"
    ]


def test_loaded_files_without_an_accepted_row_are_a_problem_and_one_accepted_row_is_not(engine, settings):
    _files(engine, "E1", JUNE, [("a.csv", "rejected", "坏"), ("b.csv", "loaded", "")])
    _outcomes(engine, "E1", JUNE, accepted=0, quarantined=3)
    _files(engine, "P1", JUNE, [("p.csv", "loaded", "")])  # header only: no rows at all
    assert delivery_problems(engine, settings, E1, JUNE) == [
        "E1 企业技术改造及主要经济指标月报 2013-06: the delivered files gave zero accepted rows (3 rows received) "
        "— 报送文件无可用数据行"
    ]
    assert delivery_problems(engine, settings, P1, JUNE) == [
        "P1 技术改造项目进展月报 2013-06: the delivered files gave zero accepted rows (0 rows received) — 报送文件无可用数据行"
    ]
    _outcomes(engine, "E1", JUNE, accepted=1, quarantined=0, sha="b" * 64)
    assert delivery_problems(engine, settings, E1, JUNE) == []


def test_a_required_monthly_form_not_delivered_is_a_problem_except_e1_in_january(engine, settings):
    assert delivery_problems(engine, settings, E1, JUNE) == [
        "E1 企业技术改造及主要经济指标月报 2013-06: nothing delivered — 本期未收到报表"
    ]
    assert delivery_problems(engine, settings, P1, JUNE) == [
        "P1 技术改造项目进展月报 2013-06: nothing delivered — 本期未收到报表"
    ]
    assert delivery_problems(engine, settings, E1, "2013-01") == []
    assert delivery_problems(engine, settings, P1, "2013-01") == [
        "P1 技术改造项目进展月报 2013-01: nothing delivered — 本期未收到报表"
    ]
    assert delivery_problems(engine, settings, E1, "2013-02") != []
    assert delivery_problems(engine, settings, A1, JUNE) == []  # not a required form
    only_p1 = settings.with_options(validation={"required_monthly_forms": ["P1"]})
    assert delivery_problems(engine, only_p1, E1, JUNE) == []
    assert delivery_problems(engine, only_p1, P1, JUNE) != []


def test_a_required_snapshot_form_needs_a_snapshot_in_force_not_a_delivery(engine, settings):
    assert delivery_problems(engine, settings, R1, JUNE) == [
        "R1 企业名录 2013-06: no accepted snapshot in force — 无有效的企业名录"
    ]
    assert delivery_problems(engine, settings, S1, JUNE) == [
        "S1 督办联系人 2013-06: no accepted snapshot in force — 无有效的督办联系人"
    ]
    with engine.begin() as conn:
        add_register(conn, "2013-07", [r1_row(1)])  # a later snapshot is not in force in June
    _supervisors(engine, "2013-06")
    assert delivery_problems(engine, settings, R1, JUNE) != []
    assert delivery_problems(engine, settings, S1, JUNE) == []
    assert delivery_problems(engine, settings, R1, "2013-07") == []
    not_required = settings.with_options(validation={"required_snapshot_forms": ["S1"]})
    assert delivery_problems(engine, not_required, R1, JUNE) == []
    # a monthly form named among them by mistake is judged as a monthly form: it has no snapshot to ask for
    monthly_too = settings.with_options(validation={"required_snapshot_forms": ["R1", "S1", "P1"]})
    assert delivery_problems(engine, monthly_too, P1, JUNE) == [
        "P1 技术改造项目进展月报 2013-06: nothing delivered — 本期未收到报表"
    ]


def test_completeness_below_the_floor_is_a_reason_and_at_it_or_unjudged_it_is_not(engine, settings):
    _completeness(engine, JUNE, expected=10, received=7, rate=0.7)
    _completeness(engine, JUNE, expected=10, received=1, rate=0.1, code="620100")  # a prefecture: not judged
    _completeness(engine, "2013-05", expected=10, received=8, rate=0.8)
    _completeness(engine, "2013-01", expected=0, received=0, rate=None)
    _completeness(engine, "2013-02", expected=3, received=0, rate=None)
    _completeness(engine, "2013-03", expected=0, received=0, rate=0.0)
    assert completeness_problem(engine, settings, Period(2013, 6)) == (
        "E1 2013-06: completeness 7/10 = 70.0% is below the floor 80% (3 enterprises missing) — 报送率低于下限"
    )
    assert completeness_problem(engine, settings.with_options(validation={"completeness_floor": 0.7}), JUNE) is None
    assert completeness_problem(engine, settings, "2013-05") is None  # at the floor
    assert completeness_problem(engine, settings, "2013-01") is None  # nobody expected
    assert completeness_problem(engine, settings, "2013-02") is None  # no rate
    assert completeness_problem(engine, settings, "2013-03") is None  # nobody expected
    assert completeness_problem(engine, settings, "2013-04") is None  # not computed


def test_the_period_fails_with_every_reason_of_every_form_in_order(engine, settings):
    _complete(engine)
    assert check_period(engine, settings, [E1, P1, R1, S1], JUNE) is None
    _outcomes(engine, "P1", JUNE, accepted=0, quarantined=5, sha="b" * 64)  # 5 of 10
    _outcomes(engine, "R1", JUNE, accepted=0, quarantined=5)  # quarantined R1 rows: gated by share too
    _outcomes(engine, "E1", "2013-07", accepted=5, quarantined=0)
    _completeness(engine, "2013-07", expected=10, received=5, rate=0.5)
    with pytest.raises(GateFailed) as failed:
        check_period(engine, settings, [E1, P1, R1, S1], Period(2013, 6))
    assert type(failed.value) is GateFailed
    assert [r.split(":")[0] for r in failed.value.reasons] == ["P1 技术改造项目进展月报 2013-06", "R1 企业名录 2013-06"]
    assert failed.value.reasons[0].startswith("P1 技术改造项目进展月报 2013-06: 5 of 10 rows quarantined (50.0%)")
    assert str(failed.value).startswith("2013-06: quality gate failed")
    with pytest.raises(GateFailed) as july:
        check_period(engine, settings, [E1, P1], "2013-07")
    assert july.value.period == "2013-07"
    assert july.value.reasons == [
        "E1 企业技术改造及主要经济指标月报 2013-07: nothing delivered — 本期未收到报表",
        "P1 技术改造项目进展月报 2013-07: nothing delivered — 本期未收到报表",
        "E1 2013-07: completeness 5/10 = 50.0% is below the floor 80% (5 enterprises missing) — 报送率低于下限",
    ]


def test_s1_is_not_gated_by_its_quarantined_share(engine, settings):
    _complete(engine)
    _outcomes(engine, "S1", JUNE, accepted=0, quarantined=9)
    assert check_period(engine, settings, [E1, P1, R1, S1], JUNE) is None


def test_the_period_reads_each_forms_counts_once_for_both_checks(engine, settings, monkeypatch):
    """check_period reads a form's (received, quarantined) once and gives them to the share check and to
    the zero-accepted-rows check, which decide on them: counts it passes that differ from the table's
    change both verdicts."""
    from techreform.validation import gate

    _complete(engine)
    reads = []
    real = gate.quarantine_share
    monkeypatch.setattr(gate, "quarantine_share", lambda *args: reads.append(args[1].code) or real(*args))
    assert check_period(engine, settings, [E1, P1, R1, S1], JUNE) is None
    assert reads == ["E1", "P1", "R1", "S1"]
    # the counts given are the ones judged: 5 of 5 quarantined fails both checks, though the table says 0
    monkeypatch.setattr(gate, "quarantine_share", lambda *args: (5, 5))
    with pytest.raises(GateFailed) as failed:
        check_period(engine, settings, [E1], JUNE)
    assert [r.split(": ", 1)[1][:21] for r in failed.value.reasons] == [
        "5 of 5 rows quarantin",
        "the delivered files g",
    ]
    assert delivery_problems(engine, settings, E1, JUNE, (5, 5)) == failed.value.reasons[1:]
    monkeypatch.setattr(gate, "quarantine_share", real)
    assert delivery_problems(engine, settings, E1, JUNE) == [] and check_gate(engine, settings, E1, JUNE) is None
