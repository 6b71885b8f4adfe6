"""Review receipts (审核回执) e-mailed to each prefecture's statistics contacts (统计联络员, an S1 role)
exactly once, against a real SMTP server on localhost (aiosmtpd): one message per contact with the
receipt attached, nothing on a re-run, one correction when the receipt changes, nothing to the
supervisors, and the supervision e-mails never to the statistics contacts — on SQLite and PostgreSQL,
over a generated province loaded by the pipeline."""

from __future__ import annotations

import io
import shutil
from dataclasses import replace

import openpyxl
import pytest
import sqlalchemy as sa

PERIOD = "2013-02"


@pytest.fixture(scope="module")
def province(tmp_path_factory):
    from techreform.generator import GeneratorConfig, generate

    out = tmp_path_factory.mktemp("receipt_province")
    generate(
        out,
        GeneratorConfig(
            enterprises=80,
            projects=24,
            first_period="2013-01",
            last_period=PERIOD,
            defect_rate=0.05,
            file_formats=(("csv-utf8-sig", 1.0),),
        ),
    )
    return out


@pytest.fixture
def loaded(settings, province, tmp_path):
    from techreform.steps import run_period

    landing = tmp_path / "landing"
    shutil.copytree(province / "landing", landing)
    settings = replace(settings, landing_dir=landing).with_options(
        validation={"hard_fail_threshold": 1.0}, email={"retry_delay_seconds": 0, "send_attempts": 2}
    )
    for period in ("2013-01", PERIOD):
        run_period(settings, period, notify=False)  # no e-mail yet: delivering steps are skipped
    return settings


def _receipt_codes(settings):
    return sorted(p.stem.rsplit("_", 1)[1] for p in (settings.output_dir / "receipts" / PERIOD).glob("*.xlsx"))


def test_each_statistics_contact_gets_the_receipt_once_and_a_changed_receipt_once_more(loaded, smtp_server):
    from techreform.validation.receipt_emails import send_receipts
    from techreform.warehouse import engine_for

    handler, smtp = smtp_server
    engine = engine_for(loaded.warehouse_url)
    codes = [c for c in _receipt_codes(loaded) if c != "unknown"]
    assert codes, "the generated deliveries have rows to correct"
    result = send_receipts(engine, loaded, PERIOD, smtp)
    assert result["sent"] == len(codes) and result["unsent"] == 0
    got = {rcpts[0]: message for rcpts, message in handler.messages}
    assert sorted(got) == sorted(f"tongji{c}@gsgxw.example" for c in codes)  # the 统计联络员 only
    code = codes[0]
    message = got[f"tongji{code}@gsgxw.example"]
    assert message["Subject"].startswith("【审核回执】2013年2月 ") and "需更正" in message["Subject"]
    assert message["Subject"].endswith("家")
    text = message.get_body(("plain",)).get_content()
    assert "截止日期：2013年3月16日" in text  # the 11th of the next month + 5 days
    assert "如有疑问请联系" in text
    files = {part.get_filename(): part.get_content() for part in message.iter_attachments()}
    assert sorted(files) == [f"审核回执_{PERIOD}_{code}.html", f"审核回执_{PERIOD}_{code}.xlsx"]
    book = openpyxl.load_workbook(io.BytesIO(files[f"审核回执_{PERIOD}_{code}.xlsx"]))
    assert book["需更正（强制性审核）"].freeze_panes == "A3"
    assert (
        files[f"审核回执_{PERIOD}_{code}.xlsx"]
        == (loaded.output_dir / "receipts" / PERIOD / f"receipt_{PERIOD}_{code}.xlsx").read_bytes()
    )

    again = send_receipts(engine, loaded, PERIOD, smtp)
    assert (again["sent"], again["unchanged"]) == (0, len(codes))
    assert len(handler.messages) == len(codes)  # no second e-mail on a re-run

    later = loaded.with_options(receipts={"resubmit_days": 8})  # the receipt changes: a new deadline
    corrected = send_receipts(engine, later, PERIOD, smtp)
    assert (corrected["sent"], corrected["corrections"]) == (len(codes), len(codes))
    assert send_receipts(engine, later, PERIOD, smtp)["sent"] == 0
    correction = [m for rcpts, m in handler.messages[len(codes) :] if rcpts == [f"tongji{code}@gsgxw.example"]]
    assert len(correction) == 1 and correction[0]["Subject"].startswith("【审核回执】【更正】")
    assert "2013年3月19日" in correction[0].get_body(("plain",)).get_content()
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("select version, status from sup_email_log where kind = 'receipt' and region_code = :c"),
            {"c": code},
        ).fetchall()
    assert sorted(rows) == [(1, "sent"), (2, "sent")]


def test_the_supervision_e_mails_do_not_go_to_statistics_contacts(loaded, smtp_server):
    from techreform.supervision import notify_period
    from techreform.warehouse import engine_for

    handler, smtp = smtp_server
    notify_period(engine_for(loaded.warehouse_url), loaded, PERIOD, smtp)
    recipients = {r for rcpts, _ in handler.messages for r in rcpts}
    assert recipients and not any(r.startswith("tongji") for r in recipients)
