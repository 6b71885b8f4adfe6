"""notify_period against a real SMTP server on localhost (aiosmtpd): what arrives is parsed – subjects
decoded, recipients, counts, the attached spreadsheet – and exactly-once delivery, corrections (更正),
refusals and retries, injection attempts, and the .eml outbox."""

from __future__ import annotations

import io
from email import message_from_bytes, policy

import openpyxl
import pytest
import sqlalchemy as sa

from supervision_fixtures import (
    GREEN_CODE,
    LANZHOU,
    RED_CODE,
    SUPERVISORS,
    TIANSHUI,
    TIANSHUI_COUNTY,
    YELLOW_CODE,
    add_facts,
    by_recipient,
    free_port,
    judged_june,
    june_facts,
    make_warehouse,
    replace_fact,
    report,
)
from techreform.supervision import EmailDeliveryFailed, SmtpConfig, notify_period, supervise_period
from techreform.warehouse import insert_rows


@pytest.fixture
def fast(settings):
    return settings.with_options(email={"retry_delay_seconds": 0, "send_attempts": 2})


@pytest.fixture
def june(warehouse_url, fast):
    return judged_june(warehouse_url, fast)


def attachment_rows(message):
    parts = [p for p in message.iter_attachments()]
    assert len(parts) == 1
    assert parts[0].get_filename().endswith(".xlsx")
    book = openpyxl.load_workbook(io.BytesIO(parts[0].get_content()))
    return {ws.title: [list(r) for r in ws.iter_rows(values_only=True)] for ws in book.worksheets}


def html_of(message):
    return message.get_body(("html",)).get_content()


def log_rows(engine):
    with engine.connect() as conn:
        return [
            tuple(r)
            for r in conn.execute(
                sa.text(
                    "select recipient, kind, region_code, version, status, attempts, last_error <> '' from sup_email_log "
                    "order by kind, recipient, version"
                )
            )
        ]


def test_each_prefecture_with_flagged_projects_and_the_province_get_one_readable_email(june, fast, smtp_server):
    handler, smtp = smtp_server
    result = notify_period(june, fast, "2013-06", smtp)
    assert (result["sent"], result["unchanged"], result["corrections"], result["outbox"]) == (2, 0, 0, None)
    got = by_recipient(handler)
    assert sorted(got) == ["lz@example.org", "prov@example.org"]  # Tianshui is all green: no e-mail
    lz = got["lz@example.org"][0]
    assert lz["Subject"] == "【技改督办】2013年6月 兰州市：红灯1个 黄灯1个"
    assert lz["To"].addresses[0].addr_spec == "lz@example.org"
    assert lz["From"].addresses[0].addr_spec == "jigai@example.org"
    sheets = attachment_rows(lz)
    projects = sheets["督办项目"]
    assert projects[0][:3] == ["项目代码", "项目名称", "项目单位"]
    assert [r[0] for r in projects[1:]] == [RED_CODE, YELLOW_CODE]  # worst first
    assert projects[1][7] == "红灯" and projects[1][8] == "项目停建" and projects[1][11] == "是"  # no rule codes
    assert projects[1][9] == "项目状态为停建"
    assert projects[2][9] == "序时进度应完成6/12，实际完成本年计划的35.0%，滞后15.0个百分点"
    assert projects[2][6] == 15.0
    page = html_of(lz)
    assert "最需关注：示范技改项目（红灯，已升级督办，项目停建）。" in page
    assert "SUSPENDED" not in page and "SCHEDULE_" not in page
    assert "<table" in page and "滞后项目" in page and "兰州示范制造有限公司" in page
    prov = got["prov@example.org"][0]
    assert prov["Subject"] == "【技改督办】2013年6月 全省汇总：红灯1个 黄灯1个 升级督办1个"
    prov_sheets = attachment_rows(prov)
    assert [r[0] for r in prov_sheets["升级督办"][1:]] == ["兰州市"]
    assert prov_sheets["各市州汇总"][1:] == [["兰州市", 1, 1, 0, 1, 0], ["天水市", 0, 0, 1, 0, 0]]


def test_a_period_notified_twice_sends_once(june, fast, smtp_server):
    handler, smtp = smtp_server
    notify_period(june, fast, "2013-06", smtp)
    with june.connect() as conn:
        log_before = conn.execute(sa.text("select * from sup_email_log order by recipient")).fetchall()
    supervise_period(june, fast, "2013-06")
    again = notify_period(june, fast, "2013-06", smtp)
    assert (again["sent"], again["unchanged"]) == (0, 2)
    assert len(handler.messages) == 2
    with june.connect() as conn:
        assert conn.execute(sa.text("select * from sup_email_log order by recipient")).fetchall() == log_before
    assert [r[4] for r in log_rows(june)] == ["sent", "sent"]


def test_a_corrected_delivery_sends_one_correction_saying_what_changed(june, fast, smtp_server):
    handler, smtp = smtp_server
    notify_period(june, fast, "2013-06", smtp)
    replace_fact(june, "2013-06", YELLOW_CODE, report("2013-06", YELLOW_CODE, project_name="滞后项目"))
    supervise_period(june, fast, "2013-06")
    result = notify_period(june, fast, "2013-06", smtp)
    assert (result["sent"], result["corrections"]) == (2, 2)
    assert notify_period(june, fast, "2013-06", smtp)["sent"] == 0
    got = by_recipient(handler)
    correction = got["lz@example.org"][1]
    assert correction["Subject"] == "【技改督办】【更正】2013年6月 兰州市：红灯1个 黄灯0个"
    text = correction.get_body(("plain",)).get_content()
    assert "黄灯：由1个改为0个" in text and f"不再列入督办：{YELLOW_CODE} 滞后项目" in text
    assert "【更正】" in html_of(correction)
    assert [r[3:5] for r in log_rows(june)] == [(1, "sent"), (2, "sent"), (1, "sent"), (2, "sent")]


def test_a_refusing_server_fails_the_run_leaves_the_log_unsent_and_a_later_run_sends(june, fast, smtp_server):
    handler, smtp = smtp_server
    handler.refuse_with = "554 5.7.1 Message rejected"
    with pytest.raises(EmailDeliveryFailed, match="554"):
        notify_period(june, fast, "2013-06", smtp)
    assert handler.messages == [] and handler.refused == 4  # 2 messages x 2 attempts
    assert log_rows(june) == [
        ("lz@example.org", "prefecture", LANZHOU, 1, "unsent", 2, True),
        ("prov@example.org", "province", "620000", 1, "unsent", 2, True),
    ]
    handler.refuse_with = None
    result = notify_period(june, fast, "2013-06", smtp)
    assert (result["sent"], result["corrections"]) == (2, 0)
    assert [r[4:] for r in log_rows(june)] == [("sent", 3, False), ("sent", 3, False)]
    assert "【更正】" not in handler.messages[0][1]["Subject"]


def test_an_unreachable_server_fails_the_run_without_waiting_for_it_once_per_message(june, fast, smtp_server):
    dead = SmtpConfig(host="127.0.0.1", port=free_port(), sender="jigai@example.org", timeout=2)
    with pytest.raises(EmailDeliveryFailed, match="unreachable"):
        notify_period(june, fast, "2013-06", dead)
    assert sorted(r[4:6] for r in log_rows(june)) == [("unsent", 0), ("unsent", 2)]  # the second not tried
    handler, smtp = smtp_server
    assert notify_period(june, fast, "2013-06", smtp)["sent"] == 2
    assert [r[4] for r in log_rows(june)] == ["sent", "sent"]


def test_names_with_line_breaks_or_markup_inject_neither_headers_nor_html(warehouse_url, fast, smtp_server):
    handler, smtp = smtp_server
    evil_s1 = [
        dict(SUPERVISORS[0], name="督查科\r\nBcc: evil@attacker.example"),
        SUPERVISORS[2],
        dict(SUPERVISORS[1], email="ts@example.org\r\nBcc: evil@attacker.example"),
    ]
    engine = make_warehouse(warehouse_url, supervisors=evil_s1)
    add_facts(
        engine,
        [
            report(
                "2013-06",
                RED_CODE,
                status="停建",
                project_name="<script>alert(1)</script>\r\nBcc: evil@attacker.example",
            ),
            report(
                "2013-06",
                GREEN_CODE,
                status="停建",
                project_name='=HYPERLINK("http://x")',
                region_code=TIANSHUI_COUNTY,
                prefecture_code=TIANSHUI,
            ),
        ],
    )
    supervise_period(engine, fast, "2013-06")
    result = notify_period(engine, fast, "2013-06", smtp)
    assert result["invalid_recipients"] == [f"{TIANSHUI}:'ts@example.org\\r\\nBcc: evil@attacker.example'"]
    assert result["unaddressed_prefectures"] == [TIANSHUI]
    recipients = sorted(r for rcpts, _ in handler.messages for r in rcpts)
    assert recipients == ["lz@example.org", "prov@example.org"]
    for _, message in handler.messages:
        assert message["Bcc"] is None and message.get_all("Bcc") is None
        assert "<script>" not in html_of(message)
    lz = by_recipient(handler)["lz@example.org"][0]
    assert "\n" not in str(lz["To"]) and "&lt;script&gt;" in html_of(lz)
    assert attachment_rows(lz)["督办项目"][1][1].startswith("<script>")  # kept as text in the sheet


def test_without_smtp_the_emails_are_written_once_to_the_outbox(june, fast):
    result = notify_period(june, fast, "2013-06", None)
    outbox = fast.output_dir / "outbox" / "2013-06"
    assert result["outbox"] == str(outbox) and result["sent"] == 2
    files = sorted(outbox.glob("*.eml"))
    assert [f.name for f in files] == [
        "prefecture-620100-lz@example.org-v1.eml",
        "province-620000-prov@example.org-v1.eml",
    ]
    message = message_from_bytes(files[0].read_bytes(), policy=policy.default)
    assert message["Subject"] == "【技改督办】2013年6月 兰州市：红灯1个 黄灯1个"
    assert notify_period(june, fast, "2013-06", None)["sent"] == 0
    assert sorted(outbox.glob("*.eml")) == files
    assert {r[4] for r in log_rows(june)} == {"written"}


def test_all_clear_notes_go_to_quiet_prefectures_only_when_configured(june, fast, smtp_server):
    handler, smtp = smtp_server
    settings = fast.with_options(supervision={"all_clear_notes": True})
    notify_period(june, settings, "2013-06", smtp)
    got = by_recipient(handler)
    assert got["ts@example.org"][0]["Subject"] == "【技改督办】2013年6月 天水市：红灯0个 黄灯0个"
    assert "本月无亮灯项目" in html_of(got["ts@example.org"][0])
    assert list(got["ts@example.org"][0].iter_attachments()) == []  # nothing to attach: no header-only workbook
    assert "见附件" not in html_of(got["ts@example.org"][0])
    assert len(list(got["lz@example.org"][0].iter_attachments())) == 1  # flagged: the tables attached


def test_missing_reporters_are_listed_in_their_prefectures_email(june, fast, smtp_server):
    handler, smtp = smtp_server
    with june.begin() as conn:
        insert_rows(
            conn,
            "dq_missing_reporter",
            [
                {
                    "period": "2013-06",
                    "uscc": "91620500MA00000002",
                    "enterprise_name": "天水缺报企业",
                    "region_code": TIANSHUI_COUNTY,
                    "county_name": "秦州区",
                    "prefecture_code": TIANSHUI,
                    "prefecture_name": "天水市",
                    "contact_email": None,
                }
            ],
        )
    notify_period(june, fast, "2013-06", smtp)
    ts = by_recipient(handler)["ts@example.org"][0]
    assert ts["Subject"] == "【技改督办】2013年6月 天水市：红灯0个 黄灯0个 缺报1家"
    assert attachment_rows(ts)["缺报企业"][1] == ["91620500MA00000002", "天水缺报企业", "秦州区"]


def test_the_provincial_summary_shows_province_indicators_against_their_targets(june, fast, smtp_server):
    handler, smtp = smtp_server
    indicator = {
        "code": "TR_INV_CUM",
        "sort_order": 1,
        "name_zh": "“十二五”技术改造投资累计",
        "name_en": "x",
        "unit": "亿元",
        "frequency": "monthly",
        "formula": "f",
        "target_kind": "at_least",
        "target_value": 5000.0,
        "target_source": "catalogue",
        "direction": "up",
        "target_basis": "absolute",
        "strict_target": 0,
        "tolerance": 0.0,
        "path": "linear",
        "levels": "province",
        "target_levels": "province",
        "scale": 1.0,
        "family": "e1_investment_cumulative",
        "headline": 1,
        "seed_clause": "二",
        "source": "E1",
        "note": "",
    }
    with june.begin() as conn:
        insert_rows(
            conn,
            "dim_indicator",
            [
                indicator,
                dict(indicator, code="PROJECT_RED", sort_order=2, family="supervision_red", name_zh="红灯项目"),
            ],
        )
        insert_rows(
            conn,
            "fct_indicator",
            [
                {
                    "period": "2013-06",
                    "indicator_code": "TR_INV_CUM",
                    "level": "province",
                    "area_code": "620000",
                    "area_name": "甘肃省",
                    "value": 2345.678,
                    "target": 2500.0,
                    "target_2015": 5000.0,
                    "status": "lagging",
                },
                {
                    "period": "2013-06",
                    "indicator_code": "PROJECT_RED",
                    "level": "province",
                    "area_code": "620000",
                    "area_name": "甘肃省",
                    "value": 1.0,
                    "target": 0.0,
                    "target_2015": 0.0,
                    "status": "lagging",
                },
                {
                    "period": "2013-06",
                    "indicator_code": "TR_INV_CUM",
                    "level": "prefecture",
                    "area_code": LANZHOU,
                    "area_name": "兰州市",
                    "value": 1.0,
                    "target": None,
                    "target_2015": None,
                    "status": "no_target",
                },
            ],
        )
    notify_period(june, fast, "2013-06", smtp)
    prov = by_recipient(handler)["prov@example.org"][0]
    assert attachment_rows(prov)["全省指标"][1:] == [
        ["TR_INV_CUM", "“十二五”技术改造投资累计", 2345.68, "亿元", 2500, "滞后"]
    ]
    assert "2,345.68" in html_of(prov)


def test_headers_are_encoded_words_in_plain_ascii(june, fast):
    notify_period(june, fast, "2013-06", None)
    raw = next((fast.output_dir / "outbox" / "2013-06").glob("prefecture-*.eml")).read_bytes()
    head = raw.split(b"\n\n", 1)[0]
    head.decode("ascii")  # no raw UTF-8 in headers
    assert b"Subject: =?utf-8?" in head


def test_a_correction_says_which_projects_changed_light_came_or_went():
    from techreform.supervision.content import describe_changes

    def row(code, light, reasons, name="项目"):
        zh = {"red": "红灯", "yellow": "黄灯"}[light]
        return {
            "project_code": code,
            "project_name": name,
            "light": light,
            "light_zh": zh,
            "reasons": reasons,
            "reasons_zh": reasons,
            "months_open": 1,
        }

    old = {
        "counts": {"red": 1, "yellow": 1, "escalated": 0, "missing": 1},
        "projects": [row("A", "red", "SUSPENDED"), row("B", "yellow", "STALLED")],
        "missing": [{"uscc": "U1", "enterprise_name": "缺报甲"}],
    }
    new = {
        "counts": {"red": 1, "yellow": 1, "escalated": 0, "missing": 0},
        "projects": [row("A", "yellow", "STALLED"), row("C", "red", "SUSPENDED", "新项目")],
        "missing": [],
    }
    assert describe_changes(old, new) == [
        "缺报企业：由1家改为0家",
        "新增红灯项目：C 新项目（项目停建）",
        "不再列入督办：B 项目（原为黄灯）",
        "A 项目：由红灯（项目停建）改为黄灯（投资连续停滞）",
        "已补报或不再缺报：U1 缺报甲",
    ]


def _claim_lz(engine, owner, host, pid, until):
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "update sup_email_log set status = 'sending', claim_owner = :o, claim_host = :h, "
                "claim_pid = :p, claim_until = :u where recipient = 'lz@example.org'"
            ),
            {"o": owner, "h": host, "p": pid, "u": until},
        )


def _dead_pid() -> int:
    import subprocess
    import sys

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_message_a_live_run_is_sending_is_left_to_it_and_the_notify_fails_so_that_it_retries(june, fast, smtp_server):
    import os
    import socket

    handler, smtp = smtp_server
    handler.refuse_with = "554 5.7.1 Message rejected"
    with pytest.raises(EmailDeliveryFailed):
        notify_period(june, fast, "2013-06", smtp)
    handler.refuse_with = None
    _claim_lz(june, "other-run", socket.gethostname(), os.getppid(), "2999-01-01T00:00:00+00:00")  # alive
    with pytest.raises(EmailDeliveryFailed, match="in flight, being sent by run other-run") as failed:
        notify_period(june, fast, "2013-06", smtp)
    assert [r for r, _ in failed.value.failures] == ["lz@example.org"]
    assert [rcpts for rcpts, _ in handler.messages] == [["prov@example.org"]]
    assert [r[4] for r in log_rows(june)] == ["sending", "sent"]


@pytest.mark.parametrize("claim", ["dead_pid_same_host", "lease_expired_other_host", "legacy_without_owner"])
def test_a_claim_whose_owner_is_gone_is_taken_over_at_once(june, fast, smtp_server, claim):
    import socket

    handler, smtp = smtp_server
    handler.refuse_with = "554 5.7.1 Message rejected"
    with pytest.raises(EmailDeliveryFailed):
        notify_period(june, fast, "2013-06", smtp)
    handler.refuse_with = None
    if claim == "dead_pid_same_host":
        _claim_lz(june, "dead-run", socket.gethostname(), _dead_pid(), "2999-01-01T00:00:00+00:00")
    elif claim == "lease_expired_other_host":
        _claim_lz(june, "far-run", "another-host.example", 1, "2000-01-01T00:00:00+00:00")
    else:
        _claim_lz(june, None, None, None, None)
        with june.begin() as conn:
            conn.execute(
                sa.text(
                    "update sup_email_log set updated_at = '2000-01-01T00:00:00+00:00' "
                    "where recipient = 'lz@example.org'"
                )
            )
    result = notify_period(june, fast, "2013-06", smtp)
    assert (result["sent"], result["in_flight"]) == (2, 0)
    assert sorted(r for rcpts, _ in handler.messages for r in rcpts) == ["lz@example.org", "prov@example.org"]
    assert [r[4] for r in log_rows(june)] == ["sent", "sent"]


def test_a_legacy_claim_without_owner_that_is_recent_is_still_left_to_its_run(june, fast, smtp_server):
    handler, smtp = smtp_server
    handler.refuse_with = "554 5.7.1 Message rejected"
    with pytest.raises(EmailDeliveryFailed):
        notify_period(june, fast, "2013-06", smtp)
    handler.refuse_with = None
    _claim_lz(june, None, None, None, None)
    with june.begin() as conn:
        conn.execute(
            sa.text(
                "update sup_email_log set updated_at = '2999-01-01T00:00:00+00:00' where recipient = 'lz@example.org'"
            )
        )
    with pytest.raises(EmailDeliveryFailed, match="in flight"):
        notify_period(june, fast, "2013-06", smtp)


def test_messages_written_to_the_outbox_are_sent_once_a_server_is_configured(june, fast, smtp_server):
    handler, smtp = smtp_server
    written = notify_period(june, fast, "2013-06", None)
    assert written["sent"] == 2 and handler.messages == []
    assert [r[4] for r in log_rows(june)] == ["written", "written"]
    sent = notify_period(june, fast, "2013-06", smtp)
    assert (sent["sent"], sent["unchanged"], sent["corrections"]) == (2, 0, 0)
    assert sorted(r for rcpts, _ in handler.messages for r in rcpts) == ["lz@example.org", "prov@example.org"]
    assert [(r[3], r[4]) for r in log_rows(june)] == [(1, "sent"), (1, "sent")]  # the same version, now sent
    again = notify_period(june, fast, "2013-06", smtp)
    assert (again["sent"], again["unchanged"]) == (0, 2) and len(handler.messages) == 2
    assert notify_period(june, fast, "2013-06", None)["unchanged"] == 2  # sent counts as delivered for the outbox


def test_a_prefecture_cleared_by_a_correction_is_told_so_once(june, fast, smtp_server):
    handler, smtp = smtp_server
    notify_period(june, fast, "2013-06", smtp)
    replace_fact(june, "2013-06", RED_CODE, report("2013-06", RED_CODE, key_project=1))
    replace_fact(june, "2013-06", YELLOW_CODE, report("2013-06", YELLOW_CODE))
    supervise_period(june, fast, "2013-06")
    assert notify_period(june, fast, "2013-06", smtp)["corrections"] == 2
    assert notify_period(june, fast, "2013-06", smtp)["sent"] == 0
    cleared = by_recipient(handler)["lz@example.org"]
    assert len(cleared) == 2
    assert cleared[1]["Subject"] == "【技改督办】【更正】2013年6月 兰州市：红灯0个 黄灯0个"
    assert "本月无亮灯项目" in html_of(cleared[1]) and "不再列入督办" in html_of(cleared[1])


def test_a_period_supervision_has_not_judged_is_not_notified(warehouse_url, fast):
    from techreform.supervision.notify import SupervisionNotRun

    engine = make_warehouse(warehouse_url)
    add_facts(engine, june_facts())
    with pytest.raises(SupervisionNotRun, match="2013-06"):
        notify_period(engine, fast, "2013-06", None)
    assert not (fast.output_dir / "outbox").exists()
