"""The exactly-once log of the supervision e-mails and the notify helpers, pinned directly (issue 16,
mutation testing of ``techreform.supervision.delivery_log`` and ``notify``): which SMTP errors stop a
run, the outbox file names, when a claim's owner is gone, and the versions, corrections, claims and
attempts as the log keeps them — on every warehouse."""

from __future__ import annotations

import datetime as dt
import json
import os
import smtplib
import subprocess
import sys
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from supervision_fixtures import make_warehouse
from techreform.supervision import delivery_log as dl
from techreform.supervision.notify import Outgoing, server_unreachable

NOW = dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.UTC)
KEY = dl.Key("2013-06", "a@x.example", "prefecture", "620100")


@pytest.mark.parametrize(
    "exc",
    [
        smtplib.SMTPConnectError(421, "busy"),
        smtplib.SMTPServerDisconnected("gone"),
        smtplib.SMTPHeloError(501, "helo"),
        smtplib.SMTPAuthenticationError(535, "auth"),
        smtplib.SMTPNotSupportedError("tls"),
        ConnectionRefusedError(111, "refused"),
        TimeoutError("timed out"),
    ],
)
def test_connection_and_session_errors_make_the_server_unreachable(exc):
    assert server_unreachable(exc)


@pytest.mark.parametrize(
    "exc",
    [
        smtplib.SMTPDataError(554, "refused"),
        smtplib.SMTPRecipientsRefused({"a@x": (550, b"no")}),
        smtplib.SMTPSenderRefused(550, b"no", "s@x"),
        smtplib.SMTPResponseException(552, "too big"),
    ],
)
def test_the_refusal_of_one_message_does_not_make_the_server_unreachable(exc):
    assert not server_unreachable(exc)


def test_an_outbox_file_is_named_by_kind_region_safe_address_and_version():
    item = Outgoing(dl.Key("2013-06", "张 a+b@x.example", "prefecture", "620100"), "d", {}, None, None)
    assert item.eml_name(2) == "prefecture-620100-__a_b@x.example-v2.eml"
    assert Outgoing(KEY, "d", {}, None, None).eml_name(1) == "prefecture-620100-a@x.example-v1.eml"


def _row(**values):
    row = {"claim_owner": "", "claim_host": "", "claim_pid": None, "claim_until": "", "updated_at": ""}
    row.update(values)
    return SimpleNamespace(**row)


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_a_claim_without_owner_is_dead_only_once_its_lease_has_passed_since_its_update():
    claimant = dl.Claimant(owner="me", host="h", pid=1, lease_minutes=30)
    assert claimant.holds_dead_claim(_row(updated_at="2026-11-30T11:29:59+00:00"), NOW)
    assert not claimant.holds_dead_claim(_row(updated_at="2026-11-30T11:30:00+00:00"), NOW)
    assert not claimant.holds_dead_claim(_row(updated_at="2026-11-30T11:45:00+00:00"), NOW)


def test_a_claim_whose_lease_expired_is_dead_on_any_host():
    claimant = dl.Claimant(owner="me", host="h", pid=1)
    row = _row(claim_owner="other", claim_host="elsewhere", claim_pid=5, claim_until="2026-11-30T11:59:59+00:00")
    assert claimant.holds_dead_claim(row, NOW)
    row = _row(claim_owner="other", claim_host="elsewhere", claim_pid=5, claim_until="2026-11-30T12:00:00+00:00")
    assert not claimant.holds_dead_claim(row, NOW)


@pytest.fixture
def running_pid():
    """A process of our own that runs during the test (checking on it must not signal it)."""
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    yield process
    process.kill()
    process.wait()


def test_a_live_claim_on_this_host_is_dead_only_when_its_process_is_gone_or_is_this_one(running_pid):
    until = "2026-11-30T12:30:00+00:00"
    claimant = dl.Claimant(owner="me", host="h", pid=os.getpid())
    alive = running_pid.pid
    assert not claimant.holds_dead_claim(_row(claim_owner="o", claim_host="h", claim_pid=alive, claim_until=until), NOW)
    assert claimant.holds_dead_claim(
        _row(claim_owner="o", claim_host="h", claim_pid=_dead_pid(), claim_until=until), NOW
    )
    assert claimant.holds_dead_claim(
        _row(claim_owner="o", claim_host="h", claim_pid=os.getpid(), claim_until=until), NOW
    )
    # another host's process cannot be checked: alive until its lease ends
    assert not claimant.holds_dead_claim(
        _row(claim_owner="o", claim_host="other", claim_pid=_dead_pid(), claim_until=until), NOW
    )
    assert not claimant.holds_dead_claim(_row(claim_owner="o", claim_host="h", claim_pid=None, claim_until=until), NOW)
    assert not claimant.holds_dead_claim(_row(claim_owner="o", claim_host="h", claim_pid=alive, claim_until=None), NOW)


def test_pid_alive_tells_a_running_process_from_a_finished_one_without_signalling_it(running_pid):
    assert dl.pid_alive(running_pid.pid)
    # only asked (signal 0), not signalled: a signal would end it at once, and it sleeps for a minute
    with pytest.raises(subprocess.TimeoutExpired):
        running_pid.wait(timeout=1)
    assert not dl.pid_alive(_dead_pid())


def test_a_claimant_defaults_to_a_fresh_token_this_host_and_process_and_a_30_minute_lease():
    a, b = dl.Claimant(), dl.Claimant()
    assert a.owner != b.owner and len(a.owner) == 16
    assert a.pid == os.getpid() and a.host and a.lease_minutes == 30.0


def test_a_claim_is_described_by_its_owner_or_as_an_earlier_runs():
    assert dl.describe_claim(_row(updated_at="2026-11-30T11:00:00")) == "an earlier run, since 2026-11-30T11:00:00"
    assert (
        dl.describe_claim(_row(claim_owner="o", claim_host="h", claim_pid=7, claim_until="u"))
        == "run o on h pid 7, lease until u"
    )


def test_a_key_gives_its_query_parameters_and_a_plan_with_a_previous_digest_is_a_correction():
    assert KEY.params() == {
        "period": "2013-06",
        "recipient": "a@x.example",
        "kind": "prefecture",
        "region_code": "620100",
    }
    assert not dl.Plan(KEY, False, 1).correction
    assert dl.Plan(KEY, False, 2, previous_digest="d1").correction


@pytest.fixture
def engine(warehouse_url):
    return make_warehouse(warehouse_url)


def _log(engine):
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "select version, status, digest, correction_of, subject, content_json, attempts, last_error, "
                "message_id, outbox_path, claim_owner from sup_email_log order by version"
            )
        ).fetchall()
    return [tuple(r) for r in rows]


def _claim(engine, digest, content, claimant, subject="s", statuses=dl.DELIVERED_TO_OUTBOX, resend_written=False):
    with engine.begin() as conn:
        decision = dl.plan(conn, KEY, digest, statuses)
        if decision.unchanged:
            return decision, None
        outcome = dl.prepare(conn, decision, digest, subject, content, claimant, resend_written=resend_written)
    return decision, outcome


def test_versions_corrections_and_attempts_as_the_log_keeps_them(engine):
    me = dl.Claimant(owner="me", lease_minutes=30)
    decision, claim = _claim(engine, "d1", {"n": "一"}, me, subject="主题")
    assert (decision.version, decision.unchanged, decision.correction) == (1, False, False)
    assert claim == dl.ClaimOutcome(True)
    assert _log(engine) == [(1, "sending", "d1", None, "主题", '{"n": "一"}', 0, "", "", None, "me")]
    with engine.begin() as conn:
        dl.record_attempt(conn, KEY, 1, dl.UNSENT, last_error="x" * 2500)
    assert _log(engine)[0][1] == "unsent" and _log(engine)[0][7] == "x" * 2000
    with engine.begin() as conn:
        dl.record_attempt(conn, KEY, 1, dl.WRITTEN, message_id="<m1>", outbox_path="/o/1.eml")
    assert _log(engine)[0][1:2] + _log(engine)[0][7:10] == ("written", "", "<m1>", "/o/1.eml")
    # the same content again: unchanged, at the delivered version
    with engine.begin() as conn:
        again = dl.plan(conn, KEY, "d1")
        assert (again.unchanged, again.version) == (True, 1)
        # through SMTP, a written version was delivered to nobody
        assert dl.delivered(conn, KEY, dl.DELIVERED_BY_SMTP) is None
        assert dl.plan(conn, KEY, "d1", dl.DELIVERED_BY_SMTP) == dl.Plan(KEY, unchanged=False, version=1)
        assert dl.delivered(conn, KEY)["version"] == 1
    # another content: version 2, a correction of the delivered one with its content
    decision, claim = _claim(engine, "d2", {"n": "二", "a": 1}, me)
    assert (decision.version, decision.previous_digest, decision.previous_content) == (2, "d1", {"n": "一"})
    assert claim.won
    assert _log(engine)[1][:6] == (2, "sending", "d2", "d1", "s", json.dumps({"a": 1, "n": "二"}, ensure_ascii=False))
    with engine.begin() as conn:
        dl.record_not_attempted(conn, KEY, 2, "unreachable " + "y" * 2500)
    assert _log(engine)[1][1] == "unsent" and _log(engine)[1][6] == 0 and len(_log(engine)[1][7]) == 2000
    with engine.begin() as conn:
        assert [k for k in dl.keys_of_period(conn, "2013-06")] == [KEY]
        assert dl.keys_of_period(conn, "2013-07") == []
        dl.cancel_unsent(conn, KEY)
    assert _log(engine)[1][1] == "cancelled"


def test_a_version_another_live_run_is_sending_is_left_to_it_and_a_dead_ones_taken_over(engine):
    other = dl.Claimant(owner="other", host="elsewhere", pid=1, lease_minutes=30)
    _claim(engine, "d1", {}, other)
    me = dl.Claimant(owner="me", lease_minutes=30)
    decision, claim = _claim(engine, "d1", {}, me)
    assert not claim.won
    assert claim.holder.startswith("run other on elsewhere pid 1, lease until ")
    # our own claim is ours again (a retry within the run)
    _, claim = _claim(engine, "d1", {}, other)
    assert claim == dl.ClaimOutcome(True)
    # a lease that ended: taken over
    expired = dl.Claimant(owner="other2", host="elsewhere", pid=1, lease_minutes=-1)
    _claim(engine, "d1", {}, expired)
    _, claim = _claim(engine, "d1", {}, me)
    assert claim == dl.ClaimOutcome(True)
    assert _log(engine)[0][10] == "me"


def test_a_written_version_is_claimed_again_only_to_be_sent_through_smtp(engine):
    me = dl.Claimant(owner="me")
    _claim(engine, "d1", {}, me)
    with engine.begin() as conn:
        dl.record_attempt(conn, KEY, 1, dl.WRITTEN, message_id="<m>", outbox_path="/o")
    later = dl.Claimant(owner="later")
    decision, claim = _claim(engine, "d1", {}, later, statuses=dl.DELIVERED_BY_SMTP, resend_written=False)
    assert decision.version == 1 and claim == dl.ClaimOutcome(False, "another run that claimed it just now")
    decision, claim = _claim(engine, "d1", {}, later, statuses=dl.DELIVERED_BY_SMTP, resend_written=True)
    assert claim == dl.ClaimOutcome(True)
    assert _log(engine)[0][1] == "sending" and _log(engine)[0][10] == "later"


def test_now_is_utc_to_the_second():
    now = dl.now_utc()
    assert now.endswith("+00:00") and len(now) == len("2026-11-30T12:00:00+00:00")


def test_an_outbox_file_name_keeps_capital_letters():
    item = Outgoing(dl.Key("2013-06", "Li.Ming@X.example", "province", "620000"), "d", {}, None, None)
    assert item.eml_name(1) == "province-620000-Li.Ming@X.example-v1.eml"


def test_plans_are_what_the_log_says_and_claims_are_timed_in_utc(engine):
    me = dl.Claimant(owner="me")
    with engine.begin() as conn:
        assert dl.plan(conn, KEY, "d1") == dl.Plan(KEY, unchanged=False, version=1)
        decision = dl.plan(conn, KEY, "d1")
        assert dl.prepare(conn, decision, "d1", "s", {"n": 1}, me) == dl.ClaimOutcome(True)
        dl.record_attempt(conn, KEY, 1, dl.SENT)
    with engine.connect() as conn:
        updated, until, message_id = conn.execute(
            sa.text("select updated_at, claim_until, message_id from sup_email_log")
        ).one()
    assert str(updated).endswith("+00:00") and str(until).endswith("+00:00")
    assert message_id == ""
    with engine.begin() as conn:
        assert dl.plan(conn, KEY, "d1") == dl.Plan(KEY, unchanged=True, version=1)
        assert dl.plan(conn, KEY, "d2") == dl.Plan(
            KEY, unchanged=False, version=2, previous_digest="d1", previous_content={"n": 1}
        )


def test_by_default_a_version_written_to_the_outbox_is_not_claimed_again(engine):
    _claim(engine, "d1", {}, dl.Claimant(owner="me"))
    with engine.begin() as conn:
        dl.record_attempt(conn, KEY, 1, dl.WRITTEN, message_id="<m>", outbox_path="/o")
        decision = dl.plan(conn, KEY, "d1", dl.DELIVERED_BY_SMTP)
        outcome = dl.prepare(conn, decision, "d1", "s", {}, dl.Claimant(owner="later"))
    assert outcome == dl.ClaimOutcome(False, "another run that claimed it just now")


def test_a_legacy_claim_without_owner_is_taken_over_once_old_and_left_while_recent(engine):
    from techreform.warehouse import insert_rows

    def legacy(updated_at):
        with engine.begin() as conn:
            conn.execute(sa.text("delete from sup_email_log"))
            insert_rows(
                conn,
                "sup_email_log",
                [
                    {
                        **KEY.params(),
                        "version": 1,
                        "digest": "d1",
                        "subject": "s",
                        "content_json": "{}",
                        "status": "sending",
                        "attempts": 0,
                        "last_error": "",
                        "message_id": "",
                        "updated_at": updated_at,
                        "claim_owner": "",
                    }
                ],
            )

    legacy("2000-01-01T00:00:00+00:00")
    _, claim = _claim(engine, "d1", {}, dl.Claimant(owner="me"))
    assert claim == dl.ClaimOutcome(True)
    legacy(dl.now_utc())
    _, claim = _claim(engine, "d1", {}, dl.Claimant(owner="me"))
    assert claim.won is False and claim.holder.startswith("an earlier run, since ")
