"""Supervision behaviour the mutation probe found unfed (docs/testing.md): the prefecture and the
key-project flag of a quarantined row, the supervisors in force, the cancellation of a correction
left unsent whose content reverted, and one e-mail per address whatever its case or spaces."""

from __future__ import annotations

import pandas as pd
import pytest
import sqlalchemy as sa

from supervision_fixtures import (
    LANZHOU,
    PROVINCE,
    SUPERVISORS,
    add_facts,
    history,
    make_warehouse,
    quarantine_row,
    replace_fact,
    report,
)
from techreform.options import SupervisionOptions
from techreform.periods import Period
from techreform.supervision import EmailDeliveryFailed, notify_period, supervise_period
from techreform.supervision.rules import judge_period

JUNE = Period(2013, 6)
OPTS = SupervisionOptions()
RED_CODE, YELLOW_CODE = "2013-620102-35-03-000001", "2013-620102-35-03-000002"


def _quarantined(**cells):
    row = {
        "period": "2013-06",
        "project_code": "Q",
        "status": "在建",
        "project_name": "隔离项目",
        "prefecture_code": None,
        "region_code": "620502",
        "uscc": None,
        "key_project": None,
        "rule_ids": "P1-H04",
    }
    row.update(cells)
    return pd.DataFrame([row])


def test_a_quarantined_row_without_a_prefecture_code_takes_it_from_its_region_code():
    out = judge_period(history(report("2013-06", "B")), _quarantined(), JUNE, OPTS).set_index("project_code")
    assert out.loc["Q", "prefecture_code"] == "620500"
    assert out.loc["Q", "region_code"] == "620502"


def test_a_region_code_that_is_not_six_characters_gives_no_prefecture():
    out = judge_period(history(report("2013-06", "B")), _quarantined(region_code="6205"), JUNE, OPTS)
    assert out.set_index("project_code").loc["Q", "prefecture_code"] == ""


def test_the_key_project_flag_of_a_quarantined_row_comes_from_the_last_accepted_report():
    hist = history(report("2013-04", "Q", key_project=0), report("2013-05", "Q", key_project=1))
    out = judge_period(hist, _quarantined(key_project=0), JUNE, OPTS).set_index("project_code")
    assert out.loc["Q", "key_project"] == 1
    hist = history(report("2013-05", "Q", key_project=0))
    out = judge_period(hist, _quarantined(key_project=1), JUNE, OPTS).set_index("project_code")
    assert out.loc["Q", "key_project"] == 0
    # with no accepted report ever, the row's own flag is all there is
    out = judge_period(history(report("2013-06", "B")), _quarantined(key_project=1), JUNE, OPTS)
    assert out.set_index("project_code").loc["Q", "key_project"] == 1


def test_superseded_quarantined_rows_are_not_current(warehouse_url):
    from techreform.supervision.sources import load_quarantined
    from techreform.warehouse import insert_rows

    engine = make_warehouse(warehouse_url)
    current = quarantine_row("2013-06", RED_CODE)
    replaced = {**quarantine_row("2013-06", YELLOW_CODE), "source_row": 5, "superseded": 1}
    earlier = {
        **quarantine_row("2013-06", RED_CODE),
        "file_sha256": "e" * 64,
        "file_name": "P1_old.csv",
        "superseded": 1,
    }
    outside = quarantine_row("2013-03", YELLOW_CODE)
    with engine.begin() as conn:
        insert_rows(conn, "quarantine", [earlier, replaced, outside])
        insert_rows(conn, "quarantine", [{**current, "source_row": 4}])
        got = load_quarantined(conn, Period(2013, 5), JUNE)
    assert list(zip(got["period"], got["project_code"], got["file_name"])) == [("2013-06", RED_CODE, "P1_2013-06.csv")]


def test_a_not_reported_project_keeps_the_names_of_its_last_row():
    hist = history(
        report("2013-05", "M", project_name="上月项目", key_project=1, prefecture_code=None, region_code="620502")
    )
    out = judge_period(hist, _quarantined(period="2013-01"), JUNE, OPTS).set_index("project_code")
    assert tuple(out.loc["M", ["light", "reasons", "project_name", "prefecture_code", "key_project"]]) == (
        "yellow",
        "NOT_REPORTED",
        "上月项目",
        "620500",
        1,
    )


# --- e-mail -------------------------------------------------------------------------------------


@pytest.fixture
def fast(settings):
    return settings.with_options(email={"retry_delay_seconds": 0, "send_attempts": 1})


def _june(url, supervisors=None):
    engine = make_warehouse(url, supervisors)
    add_facts(
        engine,
        [
            report("2013-06", RED_CODE, status="停建"),
            report("2013-06", YELLOW_CODE, annual_plan_investment=1000.0, ytd_investment=350.0),
        ],
    )
    return engine


def _log(engine):
    with engine.connect() as conn:
        return [
            tuple(r)
            for r in conn.execute(
                sa.text("select recipient, kind, version, status from sup_email_log order by kind, recipient, version")
            )
        ]


def test_a_correction_left_unsent_whose_content_reverts_is_logged_cancelled(warehouse_url, fast, smtp_server):
    handler, smtp = smtp_server
    engine = _june(warehouse_url)
    supervise_period(engine, fast, "2013-06")
    assert notify_period(engine, fast, "2013-06", smtp)["sent"] == 2
    original = report("2013-06", YELLOW_CODE, annual_plan_investment=1000.0, ytd_investment=350.0)
    replace_fact(engine, "2013-06", YELLOW_CODE, report("2013-06", YELLOW_CODE))  # corrected: green now
    supervise_period(engine, fast, "2013-06")
    handler.refuse_with = "554 5.7.1 Message rejected"
    with pytest.raises(EmailDeliveryFailed):
        notify_period(engine, fast, "2013-06", smtp)
    assert [r[2:] for r in _log(engine)] == [(1, "sent"), (2, "unsent"), (1, "sent"), (2, "unsent")]
    handler.refuse_with = None
    replace_fact(engine, "2013-06", YELLOW_CODE, original)  # corrected back: what was sent is right again
    supervise_period(engine, fast, "2013-06")
    result = notify_period(engine, fast, "2013-06", smtp)
    assert (result["sent"], result["unchanged"]) == (0, 2)
    assert [r[2:] for r in _log(engine)] == [(1, "sent"), (2, "cancelled"), (1, "sent"), (2, "cancelled")]
    assert len(handler.messages) == 2


def test_addresses_differing_only_in_case_or_spaces_get_one_email(warehouse_url, fast, smtp_server):
    handler, smtp = smtp_server
    supervisors = [
        *SUPERVISORS,
        {
            "snapshot_period": "2010-01",
            "region_code": LANZHOU,
            "name": "兰州督查科（副本）",
            "email": " LZ@Example.org ",
            "role": "市州工信局督查科",
        },
        {
            "snapshot_period": "2010-01",
            "region_code": PROVINCE,
            "name": "投资处",
            "email": "Prov@example.org",
            "role": "省工信委投资处",
        },
    ]
    engine = _june(warehouse_url, supervisors)
    supervise_period(engine, fast, "2013-06")
    result = notify_period(engine, fast, "2013-06", smtp)
    assert result["sent"] == 2 and result["invalid_recipients"] == []
    assert sorted(r.lower() for rcpts, _ in handler.messages for r in rcpts) == ["lz@example.org", "prov@example.org"]


def test_the_supervisors_in_force_are_those_of_the_latest_snapshot_up_to_the_period(warehouse_url, fast, smtp_server):
    handler, smtp = smtp_server
    later = [{**s, "snapshot_period": "2013-07", "email": s["email"].replace("@", ".new@")} for s in SUPERVISORS]
    earlier = [{**s, "snapshot_period": "2012-01", "email": s["email"].replace("@", ".old@")} for s in SUPERVISORS]
    engine = _june(warehouse_url, [*SUPERVISORS, *later, *earlier])
    supervise_period(engine, fast, "2013-06")
    notify_period(engine, fast, "2013-06", smtp)
    assert sorted(r for rcpts, _ in handler.messages for r in rcpts) == ["lz.old@example.org", "prov.old@example.org"]
