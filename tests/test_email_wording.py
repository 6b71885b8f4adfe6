"""What a supervisor reads: Chinese reasons, no negative lag, 家 for enterprises, no empty attachment, the
configured sender, Beijing dates (composed messages, parsed back as a mail program would)."""

from __future__ import annotations

import datetime as dt
from email import message_from_bytes, policy

import pytest

from techreform.options import EmailOptions
from techreform.supervision.content import PREFECTURE, PROVINCE, Content
from techreform.supervision.emails import compose, display_row, lag_text, sender_of


def project(code, lag, light="yellow", reasons="SCHEDULE_YELLOW"):
    return {
        "project_code": code,
        "project_name": f"项目{code[-1]}",
        "enterprise_name": "某公司",
        "county_name": "城关区",
        "annual_plan_investment": 1000.0,
        "ytd_investment": 500.0,
        "lag_pp": lag,
        "light": light,
        "light_zh": {"red": "红灯", "yellow": "黄灯"}[light],
        "reasons": reasons,
        "reasons_zh": f"X({reasons})",
        "detail": "",
        "months_open": 1,
        "escalated": 0,
        "escalated_zh": "",
    }


def parsed(message):
    return message_from_bytes(message.as_bytes(), policy=policy.default)


def test_a_lag_is_never_negative_a_project_ahead_reads_ahead():
    assert lag_text(12.5) == 12.5
    assert lag_text(0.0) == 0
    assert lag_text(-3.24) == "0（超前3.2）"
    assert lag_text(-0.01) == 0  # ahead by less than what is shown
    assert lag_text(None) is None
    row = display_row(project("2013-620102-35-03-000001", -8.0, reasons="COMPLETION_OVERDUE;START_OVERDUE"))
    assert row["lag_pp"] == "0（超前8）"
    assert row["reasons_zh"] == "逾期未竣工；逾期未开工"


def test_the_prefecture_mail_shows_chinese_reasons_no_negative_lag_and_the_configured_sender():
    content = Content(
        "2013-06",
        PREFECTURE,
        "620100",
        "兰州市",
        {"red": 1, "yellow": 1, "escalated": 0, "missing": 2},
        projects=[
            project("2013-620102-35-03-000001", 35.0, "red", "SCHEDULE_RED"),
            project("2013-620102-35-03-000002", -6.5, "yellow", "STALLED"),
        ],
        missing=[{"uscc": "U1", "enterprise_name": "甲", "county_name": "城关区"}] * 2,
    )
    options = EmailOptions(sender="jigai@gsgxw.example", sender_name="甘肃省工信委技改办")
    when = dt.datetime(2013, 7, 11, 1, 30, tzinfo=dt.UTC)
    message = parsed(compose(content, "张三", "zs@gsgxw.example", options, "jigai@gsgxw.example", now=when))
    page = message.get_body(("html",)).get_content()
    text = message.get_body(("plain",)).get_content()
    for body in (page, text):
        assert "SCHEDULE_RED" not in body and "STALLED" not in body
        assert "序时进度严重滞后" in body and "投资连续停滞" in body
        assert "-6.5" not in body and "0（超前6.5）" in body
        assert "缺报2家" in body
    assert message["From"].addresses[0].display_name == "甘肃省工信委技改办"
    assert message["From"].addresses[0].addr_spec == "jigai@gsgxw.example"
    assert message["Date"].endswith("+0800") and "09:30:00" in message["Date"]
    assert message["Subject"] == "【技改督办】2013年6月 兰州市：红灯1个 黄灯1个 缺报2家"


def test_a_sender_with_its_own_name_wins_and_a_bad_one_is_refused():
    options = EmailOptions(sender="技改监测 <jigai@gsgxw.example>")
    assert sender_of(None, options) == ("技改监测 <jigai@gsgxw.example>", "jigai@gsgxw.example")
    content = Content("2013-06", PROVINCE, "620000", "甘肃省", {"red": 0, "yellow": 0, "escalated": 0, "missing": 0})
    message = parsed(compose(content, "李四", "ls@gsgxw.example", options, sender_of(None, options)[0]))
    assert message["From"].addresses[0].display_name == "技改监测"
    assert list(message.iter_attachments()) == []  # every table empty: nothing attached
    with pytest.raises(ValueError, match="sender"):
        sender_of(None, EmailOptions(sender="not an address"))
