"""The bureau's e-mail about a new revision, against a real SMTP server on localhost (aiosmtpd): sent once
per revision and recipient, naming the revision and its manifest's digest; the address comes from S1
(role 统计局) or the configuration; a refused message is retried by the next run and then sent once."""

from __future__ import annotations

import hashlib
from email import message_from_bytes, policy

import pytest
import sqlalchemy as sa

from extracts_fixtures import BUREAU, PERIOD, correct_one_enterprise, loaded, loaded_templates, province  # noqa: F401
from techreform.extracts import extract_period
from techreform.supervision import EmailDeliveryFailed
from techreform.warehouse import engine_for

pytestmark = pytest.mark.slow


def test_the_bureau_is_told_once_per_revision_with_the_manifest_digest(loaded, smtp_server):
    handler, smtp = smtp_server
    engine = engine_for(loaded.warehouse_url)
    first = extract_period(engine, loaded, PERIOD, smtp=smtp)
    assert first["notified"] == [BUREAU]
    assert len(handler.messages) == 1
    recipients, message = handler.messages[0]
    assert recipients == [BUREAU]
    manifest = (loaded.output_dir / "extracts" / PERIOD / "r1" / "manifest.json").read_bytes()
    digest = hashlib.sha256(manifest).hexdigest()
    assert first["manifest_sha256"] == digest
    assert "r1" in message["Subject"] and PERIOD in message["Subject"]
    assert digest in message.get_content()

    again = extract_period(engine, loaded, PERIOD, smtp=smtp)
    assert again["notified"] == [] and len(handler.messages) == 1

    uscc, _ = correct_one_enterprise(loaded)
    second = extract_period(engine, loaded, PERIOD, smtp=smtp)
    assert second["revision"] == 2 and second["notified"] == [BUREAU]
    assert len(handler.messages) == 2
    body = handler.messages[1][1].get_content()
    assert "r2" in handler.messages[1][1]["Subject"] and second["manifest_sha256"] in body
    assert "enterprise_monthly: +0 -0 ~1" in body


def test_a_refused_message_stays_unsent_and_goes_out_once_on_the_next_run(loaded, smtp_server):
    handler, smtp = smtp_server
    engine = engine_for(loaded.warehouse_url)
    configured = loaded.with_options(
        validation={"hard_fail_threshold": 1.0}, extracts={"bureau_email": ["zonghe@tjj.example", "tongji@tjj.example"]}
    )
    handler.refuse_with = "554 5.7.1 rejected"
    with pytest.raises(EmailDeliveryFailed, match="zonghe@tjj.example"):
        extract_period(engine, configured, PERIOD, smtp=smtp)
    assert (loaded.output_dir / "extracts" / PERIOD / "r1" / "manifest.json").exists()
    handler.refuse_with = None
    result = extract_period(engine, configured, PERIOD, smtp=smtp)
    assert not result["written"] and sorted(result["notified"]) == ["tongji@tjj.example", "zonghe@tjj.example"]
    assert sorted(r for rcpts, _ in handler.messages for r in rcpts) == ["tongji@tjj.example", "zonghe@tjj.example"]
    extract_period(engine, configured, PERIOD, smtp=smtp)
    assert len(handler.messages) == 2
    check = sa.create_engine(loaded.warehouse_url)
    with check.connect() as conn:
        rows = conn.execute(sa.text("select recipient, status, attempts from ext_email_log order by recipient")).all()
    check.dispose()
    assert [tuple(r) for r in rows] == [("tongji@tjj.example", "sent", 2), ("zonghe@tjj.example", "sent", 2)]


def test_without_a_server_the_message_is_written_to_the_outbox(loaded):
    result = extract_period(engine_for(loaded.warehouse_url), loaded, PERIOD)
    written = sorted((loaded.output_dir / "outbox" / "extracts" / PERIOD).glob("*.eml"))
    assert [p.name for p in written] == [f"r1_{BUREAU}.eml"]
    message = message_from_bytes(written[0].read_bytes(), policy=policy.default)
    assert message["To"] == BUREAU and result["manifest_sha256"] in message.get_content()
