"""``notify_period``, who it plans to e-mail, and ``deliver_messages``, pinned directly (issue 16, mutation
testing of ``techreform.supervision.notify``): the recipients of a judged period (statistics contacts left
out, quiet prefectures only for an all-clear or a correction, invalid and missing addresses reported), the
outbox files and log rows without a server, and through a real SMTP server on localhost (aiosmtpd, one per
module) what arrives, the attempts and pauses of a refused message, an unreachable server, a message
another run is sending, and the counts each run returns — on every warehouse. The judged June of
``supervision_fixtures`` is supervised in about 0.2 s; the pauses between attempts are recorded, not
waited for."""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from email import message_from_bytes, policy
from email.message import EmailMessage
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from service_fixtures import free_port, running_local_smtp
from supervision_fixtures import (
    LANZHOU,
    PROVINCE,
    SUPERVISORS,
    TIANSHUI,
    YELLOW_CODE,
    by_recipient,
    judged_june,
    make_warehouse,
    replace_fact,
    report,
)
from techreform.faults import FAULT_ENV
from techreform.periods import Period
from techreform.supervision import EmailDeliveryFailed, SmtpConfig, notify, notify_period, supervise_period
from techreform.supervision import delivery_log as dl
from techreform.supervision.content import PREFECTURE
from techreform.supervision.notify import Outgoing, SupervisionNotRun, deliver_messages, plan_deliveries

JUNE = Period.parse("2013-06")
LZ, TS, PROV = "lz@example.org", "ts@example.org", "prov@example.org"


def _notify_records(caplog) -> list[logging.LogRecord]:
    """The records of the notify module: the local SMTP server runs in this process, and its own log
    (``mail.log``) reaches the same handler when an earlier test left the root logger at INFO."""
    return [r for r in caplog.records if r.name == notify.__name__]


@pytest.fixture(scope="module")
def shared_smtp():
    with running_local_smtp() as server:
        yield server


@pytest.fixture
def server(shared_smtp):
    """The module's SMTP server, emptied and accepting: ``(handler, SmtpConfig)``."""
    shared_smtp.handler.reset()
    return shared_smtp.handler, SmtpConfig(
        host=shared_smtp.host, port=shared_smtp.port, sender="jigai@example.org", timeout=10
    )


@pytest.fixture
def opts(settings):
    """Three attempts per message, 7 s apart (recorded, not waited: see ``pauses``), leases of 45 min."""
    return settings.with_options(email={"send_attempts": 3, "retry_delay_seconds": 7, "claim_minutes": 45})


@pytest.fixture
def june(warehouse_url, opts):
    return judged_june(warehouse_url, opts)


@pytest.fixture
def pauses(monkeypatch):
    """The pauses between two attempts of a message, with the status its log row had meanwhile; a hook
    (``pauses.then``) runs at each pause."""
    record = SimpleNamespace(delays=[], then=None)

    def sleep(seconds):
        record.delays.append(seconds)
        if record.then is not None:
            record.then()

    monkeypatch.setattr(notify, "time", SimpleNamespace(sleep=sleep))
    return record


@pytest.fixture(autouse=True)
def no_fault_injected(monkeypatch):
    """No fault point named (as in production): a fault point reached without a name then shows in
    ``faults`` instead of ending the test process."""
    monkeypatch.setenv(FAULT_ENV, "none")


@pytest.fixture
def faults(monkeypatch):
    """The fault points reached, in order (none ends the process here)."""
    reached = []
    monkeypatch.setattr(notify, "fault_point", reached.append)
    return reached


def log_of(engine) -> list[dict]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "select period, recipient, kind, region_code, version, status, attempts, last_error, message_id, "
                "outbox_path, subject, content_json, digest, correction_of, claim_owner, claim_until, updated_at "
                "from sup_email_log order by kind, recipient, version"
            )
        )
        return [dict(r._mapping) for r in rows]


def planned(engine, settings) -> tuple[list[tuple[str, str, str, str]], dict]:
    deliveries, problems = plan_deliveries(engine, settings, JUNE)
    return [(d.email, d.content.kind, d.content.region_code, d.name) for d in deliveries], problems


# ---------------------------------------------------------------------------------------------- who


def test_flagged_prefectures_and_the_province_are_planned_and_a_quiet_prefecture_is_not(june, opts):
    deliveries, problems = plan_deliveries(june, opts, JUNE)
    assert [(d.email, d.content.kind, d.content.region_code, d.name) for d in deliveries] == [
        (PROV, "province", PROVINCE, "省工信委投资处"),
        (LZ, "prefecture", LANZHOU, "兰州督查科"),
    ]
    assert problems == {"invalid_recipients": [], "unaddressed_prefectures": []}
    province, lanzhou = (d.content for d in deliveries)
    assert (lanzhou.region_name, lanzhou.counts) == ("兰州市", {"red": 1, "yellow": 1, "escalated": 1, "missing": 0})
    assert (province.region_name, [p["prefecture_code"] for p in province.prefectures]) == (
        "甘肃省",
        [LANZHOU, TIANSHUI],
    )


def test_the_province_is_named_by_the_division_list_and_by_the_settings_only_when_the_list_lacks_it(june, opts):
    renamed = opts.with_options(email={"province_name": "某省"})
    deliveries, _ = plan_deliveries(june, renamed, JUNE)
    assert deliveries[0].content.region_name == "甘肃省"
    with june.begin() as conn:
        conn.execute(sa.text("delete from dim_division where code = :c"), {"c": PROVINCE})
    deliveries, _ = plan_deliveries(june, renamed, JUNE)
    assert (deliveries[0].content.kind, deliveries[0].content.region_name) == ("province", "某省")


def test_all_clear_notes_plan_quiet_prefectures_named_by_code_when_the_division_list_lacks_them(warehouse_url, opts):
    jiayuguan = {**SUPERVISORS[0], "region_code": "620200", "name": "嘉峪关督查科", "email": "jyg@example.org"}
    engine = judged_june(warehouse_url, opts, supervisors=[*SUPERVISORS, jiayuguan])
    assert [d[:3] for d in planned(engine, opts)[0]] == [(PROV, "province", PROVINCE), (LZ, "prefecture", LANZHOU)]
    notes = opts.with_options(supervision={"all_clear_notes": True})
    deliveries, problems = plan_deliveries(engine, notes, JUNE)
    assert [(d.email, d.content.region_code, d.content.region_name, d.content.flagged) for d in deliveries] == [
        (PROV, PROVINCE, "甘肃省", False),
        (LZ, LANZHOU, "兰州市", True),
        ("jyg@example.org", "620200", "620200", False),
        (TS, TIANSHUI, "天水市", False),
    ]
    assert problems == {"invalid_recipients": [], "unaddressed_prefectures": []}


def test_a_quiet_prefecture_ordered_before_a_flagged_one_does_not_end_the_plan(warehouse_url, opts):
    jiayuguan = {**SUPERVISORS[0], "region_code": "620200", "name": "嘉峪关督查科", "email": "jyg@example.org"}
    engine = judged_june(warehouse_url, opts, supervisors=[*SUPERVISORS, jiayuguan])
    with engine.begin() as conn:  # Tianshui's project turns red: flagged, after quiet Jiayuguan (620200)
        conn.execute(
            sa.text("update fct_project_monthly set status = '停建' where prefecture_code = :p"), {"p": TIANSHUI}
        )
    supervise_period(engine, opts, "2013-06")
    assert [d[:3] for d in planned(engine, opts)[0]] == [
        (PROV, "province", PROVINCE),
        (LZ, "prefecture", LANZHOU),
        (TS, "prefecture", TIANSHUI),
    ]


def test_a_quiet_prefecture_emailed_about_the_period_before_is_planned_so_a_correction_can_clear_it(june, opts):
    def log_key(recipient, kind, region):
        with june.begin() as conn:
            decision = dl.plan(conn, dl.Key("2013-06", recipient, kind, region), "d")
            dl.prepare(conn, decision, "d", "s", {}, dl.Claimant())

    log_key(TS, "province", TIANSHUI)  # another kind,
    log_key(TS, "prefecture", LANZHOU)  # another region,
    log_key("other@example.org", "prefecture", TIANSHUI)  # another recipient: not this e-mail
    assert [d[0] for d in planned(june, opts)[0]] == [PROV, LZ]
    log_key(TS, "prefecture", TIANSHUI)
    assert [d[:3] for d in planned(june, opts)[0]] == [
        (PROV, "province", PROVINCE),
        (LZ, "prefecture", LANZHOU),
        (TS, "prefecture", TIANSHUI),
    ]


def test_statistics_contacts_get_no_supervision_email_unless_no_contact_role_is_configured(warehouse_url, opts):
    contact = {**SUPERVISORS[0], "name": "兰州统计", "email": "tj@example.org", "role": "市州统计联络员"}
    engine = judged_june(warehouse_url, opts, supervisors=[contact, *SUPERVISORS])
    assert [d[0] for d in planned(engine, opts)[0]] == [PROV, LZ]
    everyone = opts.with_options(receipts={"contact_role": ""})
    assert [d[0] for d in planned(engine, everyone)[0]] == [PROV, LZ, "tj@example.org"]


def test_invalid_addresses_are_reported_and_flagged_prefectures_left_without_one_are_listed(warehouse_url, opts):
    supervisors = [
        {**SUPERVISORS[0], "email": "lz@example"},  # Lanzhou (flagged): no valid address
        {**SUPERVISORS[0], "name": "", "email": ""},
        {**SUPERVISORS[1], "email": "ts at example.org"},  # Tianshui: quiet, so not listed
        {**SUPERVISORS[2], "name": "", "email": "  Prov@Example.org "},  # spaces around: fine
        {**SUPERVISORS[2], "name": "第二位", "email": "prov@example.org"},  # the same address: one e-mail
    ]
    engine = judged_june(warehouse_url, opts, supervisors=supervisors)
    deliveries, problems = planned(engine, opts)
    assert deliveries == [("Prov@Example.org", "province", PROVINCE, "")]
    assert problems == {
        "invalid_recipients": [f"{LANZHOU}:''", f"{LANZHOU}:'lz@example'", f"{TIANSHUI}:'ts at example.org'"],
        "unaddressed_prefectures": [LANZHOU],
    }
    # Lanzhou addressed again: nothing unaddressed
    with engine.begin() as conn:
        conn.execute(sa.text("update dim_supervisor set email = :e where email = 'lz@example'"), {"e": LZ})
    assert planned(engine, opts)[1] == {
        "invalid_recipients": [f"{LANZHOU}:''", f"{TIANSHUI}:'ts at example.org'"],
        "unaddressed_prefectures": [],
    }


def test_unaddressed_flagged_prefectures_are_listed_in_code_order(warehouse_url, opts):
    engine = judged_june(warehouse_url, opts, supervisors=[SUPERVISORS[2]])
    with engine.begin() as conn:  # Tianshui's project turns red too
        conn.execute(
            sa.text("update fct_project_monthly set status = '停建' where prefecture_code = :p"), {"p": TIANSHUI}
        )
    supervise_period(engine, opts, "2013-06")
    assert planned(engine, opts)[1] == {"invalid_recipients": [], "unaddressed_prefectures": [LANZHOU, TIANSHUI]}


# ---------------------------------------------------------------------------------------------- notify_period


def test_a_period_supervision_has_not_judged_is_refused_with_a_message_saying_what_to_run(warehouse_url, opts):
    engine = make_warehouse(warehouse_url)
    with pytest.raises(SupervisionNotRun) as refused:
        notify_period(engine, opts, "2013-06", None)
    assert str(refused.value) == (
        "2013-06: supervision has not judged this period yet; run supervise_period before notify_period "
        "(督办灯色尚未计算)"
    )
    assert log_of(engine) == []


def test_without_a_server_the_emails_are_written_to_the_outbox_and_logged_written(june, opts, caplog):
    caplog.set_level(logging.INFO, logger=notify.__name__)
    result = notify_period(june, opts, JUNE, None)
    outbox = opts.output_dir / "outbox" / "2013-06"
    assert result == {
        "sent": 2,
        "unchanged": 0,
        "corrections": 0,
        "unsent": 0,
        "in_flight": 0,
        "outbox": str(outbox),
        "invalid_recipients": [],
        "unaddressed_prefectures": [],
    }
    names = ["prefecture-620100-lz@example.org-v1.eml", "province-620000-prov@example.org-v1.eml"]
    assert sorted(p.name for p in outbox.iterdir()) == names
    messages = [message_from_bytes((outbox / n).read_bytes(), policy=policy.default) for n in names]
    assert [m["Subject"] for m in messages] == [
        "【技改督办】2013年6月 兰州市：红灯1个 黄灯1个",
        "【技改督办】2013年6月 全省汇总：红灯1个 黄灯1个 升级督办1个",
    ]
    assert [m["From"].addresses[0].addr_spec for m in messages] == ["techreform@localhost.localdomain"] * 2
    assert [str(m["To"]) for m in messages] == ["兰州督查科 <lz@example.org>", "省工信委投资处 <prov@example.org>"]
    contents = {d.email: d.content.as_json() for d in plan_deliveries(june, opts, JUNE)[0]}
    rows = log_of(june)
    assert {r["period"] for r in rows} == {"2013-06"}
    assert [(r["recipient"], r["kind"], r["region_code"], r["version"], r["status"], r["attempts"]) for r in rows] == [
        (LZ, "prefecture", LANZHOU, 1, "written", 1),
        (PROV, "province", PROVINCE, 1, "written", 1),
    ]
    for row, name, message in zip(rows, names, messages, strict=True):
        assert (row["outbox_path"], row["message_id"], row["subject"]) == (
            str(outbox / name),
            message["Message-ID"].strip(),
            message["Subject"],
        )
        assert json.loads(row["content_json"]) == contents[row["recipient"]]
        assert (row["last_error"], row["correction_of"]) == ("", None)
    assert [r.getMessage() for r in _notify_records(caplog)][:2] == [
        f"e-mail 2013-06 to {PROV} (province {PROVINCE}) v1 written",
        f"e-mail 2013-06 to {LZ} (prefecture {LANZHOU}) v1 written",
    ]
    # the summary as logged then (with the failures, before they are taken out to raise)
    assert caplog.text.splitlines()[2].endswith(
        "notification 2013-06: "
        + str(
            {
                "sent": 2,
                "unchanged": 0,
                "corrections": 0,
                "unsent": 0,
                "in_flight": 0,
                "outbox": str(outbox),
                "failures": [],
                "invalid_recipients": [],
                "unaddressed_prefectures": [],
            }
        )
    )
    again = notify_period(june, opts, "2013-06", None)
    assert (again["sent"], again["unchanged"]) == (0, 2)
    assert sorted(p.name for p in outbox.iterdir()) == names


def test_the_province_gets_the_monthly_report_once_it_is_written_and_prefectures_never(june, opts):
    from techreform.report import report_paths

    pdf = report_paths(opts, JUNE)[1]
    pdf.parent.mkdir(parents=True, exist_ok=True)
    pdf.write_bytes(b"%PDF-1.4 monthly report")
    notify_period(june, opts, "2013-06", None)
    outbox = opts.output_dir / "outbox" / "2013-06"

    def attachments(name):
        message = message_from_bytes((outbox / name).read_bytes(), policy=policy.default)
        return {p.get_filename(): (p.get_content_type(), p.get_content()) for p in message.iter_attachments()}

    province = attachments("province-620000-prov@example.org-v1.eml")
    assert province["技改统计监测月报_2013-06.pdf"] == ("application/pdf", b"%PDF-1.4 monthly report")
    assert list(province) == ["技改督办_2013-06_620000.xlsx", "技改统计监测月报_2013-06.pdf"]
    assert list(attachments("prefecture-620100-lz@example.org-v1.eml")) == ["技改督办_2013-06_620100.xlsx"]


def test_without_the_report_the_province_gets_only_its_tables(june, opts):
    notify_period(june, opts, "2013-06", None)
    raw = (opts.output_dir / "outbox" / "2013-06" / "province-620000-prov@example.org-v1.eml").read_bytes()
    message = message_from_bytes(raw, policy=policy.default)
    assert [p.get_filename() for p in message.iter_attachments()] == ["技改督办_2013-06_620000.xlsx"]


def test_a_changed_content_is_written_once_more_as_a_correction_saying_what_changed(june, opts):
    notify_period(june, opts, "2013-06", None)
    replace_fact(june, "2013-06", YELLOW_CODE, report("2013-06", YELLOW_CODE, project_name="滞后项目"))
    supervise_period(june, opts, "2013-06")
    result = notify_period(june, opts, "2013-06", None)
    assert (result["sent"], result["corrections"], result["unchanged"]) == (2, 2, 0)
    raw = (opts.output_dir / "outbox" / "2013-06" / "prefecture-620100-lz@example.org-v2.eml").read_bytes()
    correction = message_from_bytes(raw, policy=policy.default)
    assert correction["Subject"] == "【技改督办】【更正】2013年6月 兰州市：红灯1个 黄灯0个"
    text = correction.get_body(("plain",)).get_content()
    assert "- 黄灯：由1个改为0个" in text and f"- 不再列入督办：{YELLOW_CODE} 滞后项目（原为黄灯）" in text
    rows = log_of(june)
    assert [(r["recipient"], r["version"], r["status"]) for r in rows] == [
        (LZ, 1, "written"),
        (LZ, 2, "written"),
        (PROV, 1, "written"),
        (PROV, 2, "written"),
    ]
    assert [r["correction_of"] for r in rows] == [None, rows[0]["digest"], None, rows[2]["digest"]]


def test_through_a_server_each_recipient_gets_its_email_from_the_connections_sender(june, opts, server):
    handler, smtp = server
    smtp = SmtpConfig(host=smtp.host, port=smtp.port, sender="技改监测 <jigai@example.org>", timeout=10)
    result = notify_period(june, opts, "2013-06", smtp, owner="dag-run")
    assert result == {
        "sent": 2,
        "unchanged": 0,
        "corrections": 0,
        "unsent": 0,
        "in_flight": 0,
        "outbox": None,
        "invalid_recipients": [],
        "unaddressed_prefectures": [],
    }
    assert [rcpts for rcpts, _ in handler.messages] == [[PROV], [LZ]]
    assert handler.senders == ["jigai@example.org"] * 2
    got = by_recipient(handler)
    assert str(got[LZ][0]["From"]) == "技改监测 <jigai@example.org>"
    assert got[PROV][0]["Subject"] == "【技改督办】2013年6月 全省汇总：红灯1个 黄灯1个 升级督办1个"
    rows = log_of(june)
    assert [(r["status"], r["attempts"], r["message_id"]) for r in rows] == [
        ("sent", 1, got[LZ][0]["Message-ID"].strip()),
        ("sent", 1, got[PROV][0]["Message-ID"].strip()),
    ]
    assert all(re.fullmatch(r"dag-run-[0-9a-f]{12}", r["claim_owner"]) for r in rows)
    assert not (opts.output_dir / "outbox").exists()


def test_what_the_server_did_not_accept_fails_the_run_with_every_recipient_and_error(june, opts, server, pauses):
    handler, smtp = server
    handler.refuse_with = "554 5.7.1 Message rejected"
    once = SmtpConfig(host=smtp.host, port=smtp.port, sender=smtp.sender, timeout=10, retry_limit=0)
    with pytest.raises(EmailDeliveryFailed) as failed:
        notify_period(june, opts, "2013-06", once)
    error = "SMTPDataError: (554, b'5.7.1 Message rejected')"
    assert failed.value.period == "2013-06"
    assert failed.value.failures == [(PROV, error), (LZ, error)]
    assert handler.refused == 2 and pauses.delays == []
    handler.refuse_with = None
    result = notify_period(june, opts, "2013-06", smtp)
    assert (result["sent"], result["unsent"], result["corrections"]) == (2, 0, 0)


# ---------------------------------------------------------------------------------------------- deliver_messages


def outgoing(recipient: str, digest: str, number: int, composed: list, cc: str | None = None) -> Outgoing:
    """A message of content ``{"n": number}`` to ``recipient`` (Lanzhou's kind and region), copied in its
    headers to ``cc`` if given; what each compose was asked for (the lines of a correction, or ``None``)
    is appended to ``composed``."""

    def compose(changes):
        composed.append(changes)
        message = EmailMessage()
        message["Subject"] = f"主题{number}"
        message["From"] = "jigai@example.org"
        message["To"] = recipient
        if cc:
            message["Cc"] = cc
        message["Message-ID"] = f"<{digest}.{number}@example.org>"
        message.set_content("\n".join(["正文", *(changes or [])]))
        return message

    return Outgoing(
        key=dl.Key("2013-06", recipient, PREFECTURE, LANZHOU),
        digest=digest,
        content={"n": number},
        compose=compose,
        describe=lambda old, new: [f"由{old['n']}改为{new['n']}"],
    )


@pytest.fixture
def engine(warehouse_url):
    return make_warehouse(warehouse_url)


COUNTS = {"sent": 0, "unchanged": 0, "corrections": 0, "unsent": 0, "in_flight": 0}


def test_without_a_server_each_message_is_written_once_its_claim_is_logged(engine, opts, faults, monkeypatch):
    composed = []
    seen = []

    def after(name):
        with engine.connect() as conn:
            seen.append(
                conn.execute(sa.text("select status, claim_owner, claim_until, updated_at from sup_email_log")).one()
            )
        faults.append(name)

    monkeypatch.setattr(notify, "fault_point", after)
    result = deliver_messages(engine, opts, JUNE, [outgoing("a@x.example", "d1", 1, composed)], None)
    outbox = opts.output_dir / "outbox" / "2013-06"
    assert result == {**COUNTS, "sent": 1, "outbox": str(outbox), "failures": []}
    assert faults == ["after_claim"] and composed == [None]
    status, owner, until, updated = seen[0]
    assert status == "sending" and re.fullmatch(r"notify-[0-9a-f]{12}", owner)
    lease = dt.datetime.fromisoformat(str(until)) - dt.datetime.fromisoformat(str(updated))
    assert lease == dt.timedelta(minutes=45)
    path = outbox / "prefecture-620100-a@x.example-v1.eml"
    written = message_from_bytes(path.read_bytes(), policy=policy.default)
    assert (written["Subject"], written["Message-ID"]) == ("主题1", "<d1.1@example.org>")
    [row] = log_of(engine)
    assert (row["status"], row["attempts"], row["message_id"], row["outbox_path"], row["subject"]) == (
        "written",
        1,
        "<d1.1@example.org>",
        str(path),
        "主题1",
    )
    assert json.loads(row["content_json"]) == {"n": 1}


def test_two_runs_claim_under_tokens_of_their_own(engine, opts, server):
    handler, smtp = server
    deliver_messages(engine, opts, JUNE, [outgoing("a@x.example", "d1", 1, [])], smtp, owner="run")
    deliver_messages(engine, opts, JUNE, [outgoing("b@x.example", "d1", 1, [])], smtp, owner="run")
    owners = [r["claim_owner"] for r in log_of(engine)]
    assert all(re.fullmatch(r"run-[0-9a-f]{12}", o) for o in owners) and owners[0] != owners[1]


def test_the_same_content_again_is_unchanged_and_a_changed_one_a_correction_of_it(engine, opts):
    composed = []
    deliver_messages(engine, opts, JUNE, [outgoing("a@x.example", "d1", 1, composed)], None)
    again = deliver_messages(engine, opts, JUNE, [outgoing("a@x.example", "d1", 1, composed)], None)
    assert {k: again[k] for k in COUNTS} == {**COUNTS, "unchanged": 1}
    assert composed == [None]  # not even composed
    changed = deliver_messages(engine, opts, JUNE, [outgoing("a@x.example", "d2", 2, composed)], None)
    assert {k: changed[k] for k in COUNTS} == {**COUNTS, "sent": 1, "corrections": 1}
    assert composed == [None, ["由1改为2"]]
    path = opts.output_dir / "outbox" / "2013-06" / "prefecture-620100-a@x.example-v2.eml"
    assert "由1改为2" in message_from_bytes(path.read_bytes(), policy=policy.default).get_content()
    assert [(r["version"], r["status"], r["correction_of"]) for r in log_of(engine)] == [
        (1, "written", None),
        (2, "written", "d1"),
    ]


def test_an_unsent_correction_whose_content_reverts_is_cancelled(engine, opts, server, pauses):
    handler, smtp = server
    deliver_messages(engine, opts, JUNE, [outgoing("a@x.example", "d1", 1, [])], smtp)
    handler.refuse_with = "554 5.7.1 Message rejected"
    deliver_messages(engine, opts, JUNE, [outgoing("a@x.example", "d2", 2, [])], smtp)
    handler.refuse_with = None
    result = deliver_messages(engine, opts, JUNE, [outgoing("a@x.example", "d1", 1, [])], smtp)
    assert {k: result[k] for k in COUNTS} == {**COUNTS, "unchanged": 1}
    assert [(r["version"], r["status"]) for r in log_of(engine)] == [(1, "sent"), (2, "cancelled")]


def test_through_a_server_a_message_is_sent_to_its_recipient_alone_and_logged_sent(
    engine, opts, server, faults, caplog
):
    handler, smtp = server
    caplog.set_level(logging.INFO, logger=notify.__name__)
    items = [outgoing("a@x.example", "d1", 1, []), outgoing("b@x.example", "d1", 1, [])]
    result = deliver_messages(engine, opts, JUNE, items, smtp)
    assert result == {**COUNTS, "sent": 2, "outbox": None, "failures": []}
    assert [(rcpts, m["Subject"]) for rcpts, m in handler.messages] == [
        (["a@x.example"], "主题1"),
        (["b@x.example"], "主题1"),
    ]
    assert handler.senders == ["jigai@example.org", "jigai@example.org"]
    assert faults == ["after_claim", "after_send", "after_claim", "after_send"]
    assert [
        (r["status"], r["attempts"], r["last_error"], r["message_id"], r["outbox_path"]) for r in log_of(engine)
    ] == [("sent", 1, "", "<d1.1@example.org>", None)] * 2
    assert [r.getMessage() for r in _notify_records(caplog)] == [
        "e-mail 2013-06 to a@x.example (prefecture 620100) v1 sent",
        "e-mail 2013-06 to b@x.example (prefecture 620100) v1 sent",
    ]
    assert not (opts.output_dir / "outbox").exists()


def test_a_message_goes_to_its_recipient_alone_whatever_its_headers_name(engine, opts, server):
    handler, smtp = server
    deliver_messages(engine, opts, JUNE, [outgoing("a@x.example", "d1", 1, [], cc="copy@x.example")], smtp)
    assert [rcpts for rcpts, _ in handler.messages] == [["a@x.example"]]


def test_without_a_connection_sender_the_configured_sender_is_the_envelope_sender(engine, opts, server):
    handler, smtp = server
    anonymous = SmtpConfig(host=smtp.host, port=smtp.port, timeout=10)
    named = opts.with_options(email={"sender": "技改 <office@example.org>"})
    deliver_messages(engine, named, JUNE, [outgoing("a@x.example", "d1", 1, [])], anonymous)
    assert handler.senders == ["office@example.org"]


def test_a_refused_message_is_tried_the_configured_times_keeping_its_claim_then_left_unsent(
    engine, opts, server, pauses, caplog
):
    handler, smtp = server
    handler.refuse_with = "554 5.7.1 Message rejected"
    statuses = []
    pauses.then = lambda: statuses.append([(r["status"], r["attempts"]) for r in log_of(engine)])
    caplog.set_level(logging.INFO, logger=notify.__name__)
    items = [outgoing("a@x.example", "d1", 1, []), outgoing("b@x.example", "d1", 1, [])]
    result = deliver_messages(engine, opts, JUNE, items, smtp)
    error = "SMTPDataError: (554, b'5.7.1 Message rejected')"
    assert result == {
        **COUNTS,
        "unsent": 2,
        "outbox": None,
        "failures": [("a@x.example", error), ("b@x.example", error)],
    }
    # a refusal is of that message: the next one is tried as well
    assert handler.refused == 6 and pauses.delays == [7, 7, 7, 7]
    assert statuses[:2] == [[("sending", 1)], [("sending", 2)]]
    assert [(r["status"], r["attempts"], r["last_error"], r["message_id"]) for r in log_of(engine)] == [
        ("unsent", 3, error, "")
    ] * 2
    assert [r.getMessage() for r in _notify_records(caplog)][:3] == [
        f"e-mail 2013-06 to a@x.example, attempt {n}, not accepted: {error}" for n in (1, 2, 3)
    ]
    assert {r.levelno for r in _notify_records(caplog)} == {logging.WARNING}


def test_a_message_accepted_at_a_later_attempt_is_logged_sent_without_the_earlier_error(
    engine, opts, server, pauses, faults
):
    handler, smtp = server
    handler.refuse_with = "554 5.7.1 Message rejected"
    pauses.then = lambda: setattr(handler, "refuse_with", None)
    result = deliver_messages(engine, opts, JUNE, [outgoing("a@x.example", "d1", 1, [])], smtp)
    assert {k: result[k] for k in COUNTS} == {**COUNTS, "sent": 1} and result["failures"] == []
    assert pauses.delays == [7] and faults == ["after_claim", "after_send"]
    assert [(r["status"], r["attempts"], r["last_error"], r["message_id"]) for r in log_of(engine)] == [
        ("sent", 2, "", "<d1.1@example.org>")
    ]


@pytest.mark.parametrize("retry_limit, attempts", [(None, 3), (0, 1), (1, 2), (-1, 1)])
def test_the_connections_retry_limit_decides_the_attempts_of_a_message(
    engine, opts, server, pauses, retry_limit, attempts
):
    handler, smtp = server
    handler.refuse_with = "554 5.7.1 Message rejected"
    limited = SmtpConfig(host=smtp.host, port=smtp.port, sender=smtp.sender, timeout=10, retry_limit=retry_limit)
    result = deliver_messages(engine, opts, JUNE, [outgoing("a@x.example", "d1", 1, [])], limited)
    assert handler.refused == attempts and pauses.delays == [7] * (attempts - 1)
    assert result["unsent"] == 1
    assert [(r["status"], r["attempts"]) for r in log_of(engine)] == [("unsent", attempts)]


def test_once_the_server_is_unreachable_the_other_messages_are_not_tried(engine, opts, pauses, caplog):
    dead = SmtpConfig(host="127.0.0.1", port=free_port(), sender="jigai@example.org", timeout=2)
    caplog.set_level(logging.INFO, logger=notify.__name__)
    items = [outgoing(f"{n}@x.example", "d1", 1, []) for n in "abc"]
    result = deliver_messages(engine, opts, JUNE, items, dead)
    error = "ConnectionRefusedError: [Errno 111] Connection refused"
    skipped = f"not attempted, the SMTP server was unreachable: {error}"
    assert result == {
        **COUNTS,
        "unsent": 3,
        "outbox": None,
        "failures": [("a@x.example", error), ("b@x.example", skipped), ("c@x.example", skipped)],
    }
    assert pauses.delays == [7, 7]
    assert [(r["recipient"], r["status"], r["attempts"], r["last_error"]) for r in log_of(engine)] == [
        ("a@x.example", "unsent", 3, error),
        ("b@x.example", "unsent", 0, skipped),
        ("c@x.example", "unsent", 0, skipped),
    ]
    assert len(_notify_records(caplog)) == 3  # the three attempts of the first message


def test_messages_another_live_run_is_sending_are_left_to_it_and_reported_in_flight(engine, opts, server, caplog):
    handler, smtp = server
    other = dl.Claimant(owner="other", host="elsewhere", pid=1, lease_minutes=30)
    for recipient in ("a@x.example", "c@x.example"):
        with engine.begin() as conn:
            decision = dl.plan(conn, dl.Key("2013-06", recipient, PREFECTURE, LANZHOU), "d1")
            dl.prepare(conn, decision, "d1", "主题1", {"n": 1}, other)
    caplog.set_level(logging.INFO, logger=notify.__name__)
    items = [outgoing(f"{n}@x.example", "d1", 1, []) for n in "abc"]
    result = deliver_messages(engine, opts, JUNE, items, smtp)
    failures = result.pop("failures")
    assert result == {**COUNTS, "sent": 1, "in_flight": 2, "outbox": None}
    assert [recipient for recipient, _ in failures] == ["a@x.example", "c@x.example"]
    error = failures[0][1]
    assert error.startswith("in flight, being sent by run other on elsewhere pid 1, lease until ")
    assert [rcpts for rcpts, _ in handler.messages] == [["b@x.example"]]
    warning = _notify_records(caplog)[0]
    assert warning.levelno == logging.WARNING
    holder = error.removeprefix("in flight, being sent by ")
    assert warning.getMessage() == f"e-mail 2013-06 to a@x.example (prefecture 620100) is being sent by {holder}"
    assert [(r["recipient"], r["status"], r["claim_owner"]) for r in log_of(engine)][0] == (
        "a@x.example",
        "sending",
        "other",
    )


def test_a_message_written_to_the_outbox_is_sent_once_a_server_is_given_and_a_sent_one_is_not_written(
    engine, opts, server
):
    handler, smtp = server
    deliver_messages(engine, opts, JUNE, [outgoing("a@x.example", "d1", 1, [])], None)
    sent = deliver_messages(engine, opts, JUNE, [outgoing("a@x.example", "d1", 1, [])], smtp)
    assert {k: sent[k] for k in COUNTS} == {**COUNTS, "sent": 1}
    assert [rcpts for rcpts, _ in handler.messages] == [["a@x.example"]]
    assert [(r["version"], r["status"], r["attempts"]) for r in log_of(engine)] == [(1, "sent", 2)]
    deliver_messages(engine, opts, JUNE, [outgoing("b@x.example", "d1", 1, [])], smtp)
    written = deliver_messages(engine, opts, JUNE, [outgoing("b@x.example", "d1", 1, [])], None)
    assert {k: written[k] for k in COUNTS} == {**COUNTS, "unchanged": 1}
    assert sorted(p.name for p in (opts.output_dir / "outbox" / "2013-06").iterdir()) == [
        "prefecture-620100-a@x.example-v1.eml"
    ]
