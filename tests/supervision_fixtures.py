"""Helpers for the supervision tests: P1 fact rows that are green unless told otherwise, a warehouse
with divisions and S1 supervisors, and real SMTP servers (aiosmtpd) on localhost."""

from __future__ import annotations

import json
import socket
import threading
import time
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pandas as pd

from techreform.periods import Period
from techreform.reference import load_calendar
from techreform.warehouse import create_schema, engine_for, insert_rows

LANZHOU, TIANSHUI, PROVINCE = "620100", "620500", "620000"
LANZHOU_COUNTY, TIANSHUI_COUNTY = "620102", "620502"

DIVISIONS = [
    {"code": PROVINCE, "name": "甘肃省", "level": "province", "prefecture_code": None, "prefecture_name": None},
    {"code": LANZHOU, "name": "兰州市", "level": "prefecture", "prefecture_code": LANZHOU, "prefecture_name": "兰州市"},
    {
        "code": LANZHOU_COUNTY,
        "name": "城关区",
        "level": "county",
        "prefecture_code": LANZHOU,
        "prefecture_name": "兰州市",
    },
    {
        "code": TIANSHUI,
        "name": "天水市",
        "level": "prefecture",
        "prefecture_code": TIANSHUI,
        "prefecture_name": "天水市",
    },
    {
        "code": TIANSHUI_COUNTY,
        "name": "秦州区",
        "level": "county",
        "prefecture_code": TIANSHUI,
        "prefecture_name": "天水市",
    },
]

SUPERVISORS = [
    {
        "snapshot_period": "2010-01",
        "region_code": LANZHOU,
        "name": "兰州督查科",
        "email": "lz@example.org",
        "role": "市州工信局督查科",
    },
    {
        "snapshot_period": "2010-01",
        "region_code": TIANSHUI,
        "name": "天水督查科",
        "email": "ts@example.org",
        "role": "市州工信局督查科",
    },
    {
        "snapshot_period": "2010-01",
        "region_code": PROVINCE,
        "name": "省工信委投资处",
        "email": "prov@example.org",
        "role": "省工信委投资处",
    },
]

USCC = "91620100MA00000001"


def report(period: str, code: str = "2013-620102-35-03-000001", **overrides: Any) -> dict[str, Any]:
    """A P1 fact row that is green: on schedule, started, completion far ahead, investment growing."""
    p = Period.parse(period)
    months = p.year * 12 + p.month
    row = {
        "period": period,
        "project_code": code,
        "project_name": "示范技改项目",
        "uscc": USCC,
        "region_code": LANZHOU_COUNTY,
        "prefecture_code": LANZHOU,
        "industry_code": "3511",
        "key_project": 0,
        "planned_total_investment": 50000.0,
        "planned_start": "2011-01",
        "planned_completion": "2016-12",
        "actual_start": "2011-01",
        "actual_completion": None,
        "annual_plan_investment": 1200.0,
        "ytd_investment": 100.0 * p.month,
        "cumulative_investment": 100.0 * (months - 2011 * 12),
        "status": "在建",
        "subsidy": None,
        "remarks": None,
        "review_status": "ok",
        "soft_rule_ids": "",
        "file_sha256": "0" * 64,
        "source_row": 2,
    }
    row.update(overrides)
    return row


def history(*rows: dict[str, Any]) -> pd.DataFrame:
    return pd.DataFrame(list(rows))


def no_quarantine() -> pd.DataFrame:
    return pd.DataFrame(
        columns=[
            "period",
            "project_code",
            "prefecture_code",
            "rule_ids",
            "project_name",
            "uscc",
            "region_code",
            "status",
            "key_project",
        ]
    )


def quarantine_row(
    period: str,
    code: str,
    name: str = "被隔离项目",
    region: str = LANZHOU_COUNTY,
    rule_ids: str = "P1-H04",
    **cells: Any,
) -> dict[str, Any]:
    """A current quarantined P1 row as the load writes it (row_json as received, Chinese headers)."""
    received = {
        "项目代码": code,
        "项目名称": name,
        "建设地点行政区划代码": region,
        "计划总投资": "-5",
        "项目状态": "在建",
        "是否省列重点项目": "否",
        **cells,
    }
    return {
        "form": "P1",
        "period": period,
        "file_sha256": "f" * 64,
        "file_name": f"P1_{period}.csv",
        "source_row": 3,
        "record_key": code,
        "prefecture_code": region[:4] + "00",
        "row_json": json.dumps(received, ensure_ascii=False),
        "rule_ids": rule_ids,
        "fields": "planned_total_investment",
        "messages": "计划总投资应大于0",
        "superseded": 0,
    }


def make_warehouse(url: str, supervisors: list[dict[str, Any]] | None = None):
    engine = engine_for(url)
    create_schema(engine)
    with engine.begin() as conn:
        insert_rows(conn, "dim_division", DIVISIONS)
        load_calendar(conn)
        insert_rows(conn, "dim_supervisor", SUPERVISORS if supervisors is None else supervisors)
        insert_rows(
            conn,
            "dim_enterprise_register",
            [
                {
                    "snapshot_period": "2010-01",
                    "uscc": USCC,
                    "enterprise_name": "兰州示范制造有限公司",
                    "region_code": LANZHOU_COUNTY,
                    "prefecture_code": LANZHOU,
                    "industry_code": "3511",
                    "scale": "中型",
                    "above_scale": 1,
                    "key_enterprise": 0,
                    "emerging_industry": 0,
                    "process_backbone": 0,
                    "operating_status": "在营",
                    "contact_email": "tongji@enterprise.example",
                }
            ],
        )  # never a recipient
    return engine


def add_facts(engine, rows: list[dict[str, Any]]) -> None:
    with engine.begin() as conn:
        insert_rows(conn, "fct_project_monthly", rows)


def replace_fact(engine, period: str, code: str, row: dict[str, Any]) -> None:
    """A corrected delivery: the current accepted row of (period, code) becomes ``row``."""
    from techreform.warehouse import delete_where

    with engine.begin() as conn:
        delete_where(conn, "fct_project_monthly", period=period, project_code=code)
        insert_rows(conn, "fct_project_monthly", [row])


RED_CODE, YELLOW_CODE, GREEN_CODE = "2013-620102-35-03-000001", "2013-620102-35-03-000002", "2013-620502-35-03-000003"


def june_facts() -> list[dict[str, Any]]:
    """June 2013: in Lanzhou a key project suspended two months running (red, escalated) and one behind
    schedule (yellow); in Tianshui one green project."""
    return [
        report("2013-05", RED_CODE, status="停建", key_project=1),
        report("2013-06", RED_CODE, status="停建", key_project=1),
        report("2013-06", YELLOW_CODE, annual_plan_investment=1000.0, ytd_investment=350.0, project_name="滞后项目"),
        report("2013-06", GREEN_CODE, region_code=TIANSHUI_COUNTY, prefecture_code=TIANSHUI),
    ]


def judged_june(url: str, settings, supervisors: list[dict[str, Any]] | None = None):
    """A warehouse with :func:`june_facts` whose June supervision has run (ready to notify)."""
    from techreform.supervision import supervise_period

    engine = make_warehouse(url, supervisors)
    add_facts(engine, june_facts())
    supervise_period(engine, settings, "2013-06")
    return engine


def by_recipient(handler: CollectingHandler) -> dict[str, list[EmailMessage]]:
    """The messages a :class:`CollectingHandler` accepted, by envelope recipient."""
    out: dict[str, list[EmailMessage]] = {}
    for rcpts, message in handler.messages:
        for r in rcpts:
            out.setdefault(r, []).append(message)
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class CollectingHandler:
    """An aiosmtpd handler that keeps every accepted message (envelope recipients and parsed message),
    or refuses every message with ``refuse_with`` (e.g. ``"554 5.7.1 rejected"``) while that is set;
    in step with ``messages``, ``senders`` holds the envelope sender (MAIL FROM) of each accepted message
    and ``arrived`` the wall-clock time (``time.time()``) it arrived."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        """Forget what arrived and accept again (a server shared by the tests of a module)."""
        self.messages: list[tuple[list[str], EmailMessage]] = []
        self.senders: list[str] = []
        self.arrived: list[float] = []
        self.refuse_with: str | None = None
        self.refused = 0

    async def handle_DATA(self, server, session, envelope):
        if self.refuse_with:
            with self._lock:
                self.refused += 1
            return self.refuse_with
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        with self._lock:
            self.arrived.append(time.time())  # first: a reader seeing the message finds its time
            self.messages.append((list(envelope.rcpt_tos), parsed))
            self.senders.append(envelope.mail_from)
        return "250 OK"
