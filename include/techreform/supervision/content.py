"""What each e-mail says, as plain data (before any HTML): one content per prefecture (its red and
yellow projects and missing reporters) and one provincial summary (counts by prefecture and light,
escalated cases, province-level indicators). The digest of a content decides exactly-once delivery;
:func:`describe_changes` says what a correction (更正) changed."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Connection

from techreform.labels import label
from techreform.labels import reasons_zh as reasons_label
from techreform.numbers import finite_number
from techreform.periods import Period
from techreform.supervision.rules import LIGHT_LABELS_ZH, LIGHT_RANK, RULE_LABELS_ZH
from techreform.supervision.sources import missing_reporters, province_indicators
from techreform.warehouse import query

PREFECTURE, PROVINCE = "prefecture", "province"

PROJECT_TABLE = [  # (key in a project row, Chinese column header)
    ("project_code", "项目代码"),
    ("project_name", "项目名称"),
    ("enterprise_name", "项目单位"),
    ("county_name", "县区"),
    ("annual_plan_investment", "本年计划投资(万元)"),
    ("ytd_investment", "本年累计完成投资(万元)"),
    ("lag_pp", "序时进度滞后(百分点)"),
    ("light_zh", "灯色"),
    ("reasons_zh", "原因"),
    ("detail", "说明"),
    ("months_open", "督办月数"),
    ("escalated_zh", "升级督办"),
]
MISSING_TABLE = [
    ("uscc", "统一社会信用代码"),
    ("enterprise_name", "企业名称"),
    ("county_name", "县区"),
]
PREFECTURE_COUNT_TABLE = [
    ("prefecture_name", "市州"),
    ("red", "红灯"),
    ("yellow", "黄灯"),
    ("green", "绿灯"),
    ("escalated", "升级督办"),
    ("missing", "缺报企业"),
]
ESCALATED_TABLE = [
    ("prefecture_name", "市州"),
    ("project_code", "项目代码"),
    ("project_name", "项目名称"),
    ("enterprise_name", "项目单位"),
    ("county_name", "县区"),
    ("opened_period", "立案月份"),
    ("escalated_period", "升级月份"),
    ("months_open", "督办月数"),
    ("lag_pp", "序时进度滞后(百分点)"),
    ("reasons_zh", "原因"),
    ("detail", "说明"),
]
INDICATOR_TABLE = [
    ("code", "指标代码"),
    ("name_zh", "指标"),
    ("value", "本期值"),
    ("unit", "单位"),
    ("target", "目标"),
    ("status_zh", "状态"),
]


@dataclass
class Content:
    """The content of one e-mail of a period, for every recipient of its region."""

    period: str
    kind: str  # prefecture | province
    region_code: str
    region_name: str
    counts: dict[str, int]
    projects: list[dict[str, Any]] = field(default_factory=list)
    missing: list[dict[str, Any]] = field(default_factory=list)
    prefectures: list[dict[str, Any]] = field(default_factory=list)
    escalated: list[dict[str, Any]] = field(default_factory=list)
    indicators: list[dict[str, Any]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "period": self.period,
            "kind": self.kind,
            "region_code": self.region_code,
            "region_name": self.region_name,
            "counts": self.counts,
            "projects": self.projects,
            "missing": self.missing,
            "prefectures": self.prefectures,
            "escalated": self.escalated,
            "indicators": self.indicators,
        }

    @property
    def digest(self) -> str:
        return content_digest(self.as_json())

    @property
    def flagged(self) -> bool:
        return bool(self.projects or self.missing)


def content_digest(content: dict[str, Any]) -> str:
    """sha256 of the canonical JSON of a content (keys sorted, UTF-8)."""
    text = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _round(value: Any, digits: int = 2) -> float | None:
    number = finite_number(value)
    return None if number is None else round(number, digits)


def reasons_zh(reasons: str) -> str:
    """``COMPLETION_OVERDUE;SCHEDULE_RED`` → ``逾期未竣工(COMPLETION_OVERDUE)；序时进度严重滞后(SCHEDULE_RED)``:
    the wording kept in the stored content (its digest decides exactly-once delivery, so it does not
    change); what people read is :func:`techreform.labels.reasons_zh` (Chinese only), put in at
    composing (:func:`techreform.supervision.emails.display_row`)."""
    parts = [r for r in (reasons or "").split(";") if r]
    return "；".join(f"{RULE_LABELS_ZH.get(r, r)}({r})" for r in parts)


def _project_row(row: dict[str, Any]) -> dict[str, Any]:
    escalated = int(row.get("case_escalated") or row.get("escalated") or 0)
    return {
        "project_code": row["project_code"],
        "project_name": row.get("project_name") or "",
        "enterprise_name": row.get("enterprise_name") or "",
        "county_name": row.get("county_name") or row.get("region_code") or "",
        "annual_plan_investment": _round(row.get("annual_plan_investment")),
        "ytd_investment": _round(row.get("ytd_investment")),
        "lag_pp": _round(row.get("lag_pp"), 1),
        "light": row["light"],
        "light_zh": LIGHT_LABELS_ZH.get(row["light"], row["light"]),
        "reasons": row.get("reasons") or "",
        "reasons_zh": reasons_zh(row.get("reasons") or ""),
        "detail": row.get("detail") or "",
        "months_open": int(row["months_open"]) if row.get("months_open") is not None else 1,
        "escalated": escalated,
        "escalated_zh": "是" if escalated else "",
    }


def _worst_first(row: dict[str, Any]) -> tuple:
    lag = row.get("lag_pp")
    return (
        -LIGHT_RANK.get(row["light"], 0),
        -row["escalated"],
        -(lag if lag is not None else -1e9),
        -row["months_open"],
        row["project_code"],
    )


def _counts(projects: list[dict[str, Any]], missing: list[dict[str, Any]]) -> dict[str, int]:
    return {
        "red": sum(p["light"] == "red" for p in projects),
        "yellow": sum(p["light"] == "yellow" for p in projects),
        "escalated": sum(p["escalated"] for p in projects),
        "missing": len(missing),
    }


def prefecture_contents(conn: Connection, period: Period, prefecture_names: dict[str, str]) -> dict[str, Content]:
    """One content per prefecture with projects under supervision or missing reporters this period
    (prefectures with nothing flagged get an empty content: see ``all_clear_notes``)."""
    by_prefecture: dict[str, list[dict[str, Any]]] = {}
    for row in query(conn, "marts/supervision/flagged_projects", period=str(period)):
        data = dict(row._mapping)
        by_prefecture.setdefault(data["prefecture_code"], []).append(_project_row(data))
    missing_by: dict[str, list[dict[str, Any]]] = {}
    for row in missing_reporters(conn, period):
        missing_by.setdefault(row["prefecture_code"], []).append(
            {
                "uscc": row["uscc"],
                "enterprise_name": row.get("enterprise_name") or "",
                "county_name": row.get("county_name") or row.get("region_code") or "",
            }
        )
    out: dict[str, Content] = {}
    for code in sorted(set(prefecture_names) | set(by_prefecture) | set(missing_by)):
        projects = sorted(by_prefecture.get(code, []), key=_worst_first)
        missing = sorted(missing_by.get(code, []), key=lambda r: (r["county_name"], r["uscc"]))
        out[code] = Content(
            str(period),
            PREFECTURE,
            code,
            prefecture_names.get(code, code),
            _counts(projects, missing),
            projects=projects,
            missing=missing,
        )
    return out


def province_content(
    conn: Connection, period: Period, province_code: str, province_name: str, prefectures: dict[str, Content]
) -> Content:
    """The provincial summary: counts by prefecture and light, every escalated case, indicators."""
    rows = []
    for row in query(conn, "marts/supervision/counts_by_prefecture", period=str(period)):
        data = dict(row._mapping)
        code = data["prefecture_code"]
        rows.append(
            {
                "prefecture_code": code,
                "prefecture_name": data["prefecture_name"] or code or "未识别市州",
                "red": int(data["red"] or 0),
                "yellow": int(data["yellow"] or 0),
                "green": int(data["green"] or 0),
                "escalated": int(data["escalated_now"] or 0),
                "missing": len(prefectures[code].missing) if code in prefectures else 0,
            }
        )
    listed = {r["prefecture_code"] for r in rows}
    for code, content in sorted(prefectures.items()):
        if code not in listed and content.missing:
            rows.append(
                {
                    "prefecture_code": code,
                    "prefecture_name": content.region_name,
                    "red": 0,
                    "yellow": 0,
                    "green": 0,
                    "escalated": 0,
                    "missing": len(content.missing),
                }
            )
    rows.sort(key=lambda r: r["prefecture_code"])
    escalated = []
    for row in query(conn, "marts/supervision/escalated_cases", period=str(period)):
        data = dict(row._mapping)
        escalated.append(
            {
                "case_id": data["case_id"],
                "prefecture_name": data["prefecture_name"] or data["prefecture_code"],
                "project_code": data["project_code"],
                "project_name": data["project_name"] or "",
                "enterprise_name": data["enterprise_name"] or "",
                "county_name": data["county_name"] or "",
                "opened_period": data["opened_period"],
                "escalated_period": data["escalated_period"] or "",
                "months_open": int(data["months_open"]),
                "lag_pp": _round(data["lag_pp"], 1),
                "reasons": data["reasons"] or "",
                "reasons_zh": reasons_zh(data["reasons"] or ""),
                "detail": data["detail"] or "",
            }
        )
    indicators = []
    for row in province_indicators(conn, period):
        indicators.append(
            {
                "code": row.get("code") or "",
                "name_zh": row.get("name_zh") or "",
                "value": _round(row.get("value"), 2),
                "unit": row.get("unit") or "",
                "target": _round(row.get("target"), 2),
                "status": row.get("status") or "",
                "status_zh": label("indicator_status", row.get("status") or ""),
            }
        )
    counts = {
        "red": sum(r["red"] for r in rows),
        "yellow": sum(r["yellow"] for r in rows),
        "escalated": len(escalated),
        "missing": sum(r["missing"] for r in rows),
    }
    return Content(
        str(period),
        PROVINCE,
        province_code,
        province_name,
        counts,
        prefectures=rows,
        escalated=escalated,
        indicators=indicators,
    )


def describe_changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """What changed from the content of an earlier e-mail to the new one, in Chinese, one line each."""
    lines: list[str] = []
    labels = {
        "red": ("红灯", "个"),
        "yellow": ("黄灯", "个"),
        "escalated": ("升级督办", "个"),
        "missing": ("缺报企业", "家"),
    }
    for key, (name, unit) in labels.items():
        before, after = (old.get("counts") or {}).get(key, 0), (new.get("counts") or {}).get(key, 0)
        if before != after:
            lines.append(f"{name}：由{before}{unit}改为{after}{unit}")

    def by(rows: list[dict[str, Any]], key: str) -> dict[str, dict[str, Any]]:
        return {r[key]: r for r in rows or []}

    old_p, new_p = by(old.get("projects"), "project_code"), by(new.get("projects"), "project_code")
    for code in sorted(set(new_p) - set(old_p)):
        r = new_p[code]
        lines.append(f"新增{r['light_zh']}项目：{code} {r['project_name']}（{reasons_label(r.get('reasons'))}）")
    for code in sorted(set(old_p) - set(new_p)):
        r = old_p[code]
        lines.append(f"不再列入督办：{code} {r['project_name']}（原为{r['light_zh']}）")
    for code in sorted(set(old_p) & set(new_p)):
        a, b = old_p[code], new_p[code]
        if (a["light"], a["reasons"]) != (b["light"], b["reasons"]):
            lines.append(
                f"{code} {b['project_name']}：由{a['light_zh']}（{reasons_label(a.get('reasons'))}）"
                f"改为{b['light_zh']}（{reasons_label(b.get('reasons'))}）"
            )
        elif a != b:
            changed = [h for k, h in PROJECT_TABLE if a.get(k) != b.get(k)]
            lines.append(f"{code} {b['project_name']}：{'、'.join(changed)}有变化")
    old_m, new_m = by(old.get("missing"), "uscc"), by(new.get("missing"), "uscc")
    for uscc in sorted(set(new_m) - set(old_m)):
        lines.append(f"新增缺报企业：{uscc} {new_m[uscc]['enterprise_name']}")
    for uscc in sorted(set(old_m) - set(new_m)):
        lines.append(f"已补报或不再缺报：{uscc} {old_m[uscc]['enterprise_name']}")
    old_e, new_e = by(old.get("escalated"), "case_id"), by(new.get("escalated"), "case_id")
    for cid in sorted(set(new_e) - set(old_e)):
        lines.append(f"新增升级督办：{new_e[cid]['project_code']} {new_e[cid]['project_name']}")
    for cid in sorted(set(old_e) - set(new_e)):
        lines.append(f"撤销升级督办：{old_e[cid]['project_code']} {old_e[cid]['project_name']}")
    if old.get("prefectures") != new.get("prefectures") and not any(
        line.startswith(("红灯", "黄灯")) for line in lines
    ):
        lines.append("各市州汇总数有变化")
    if old.get("indicators") != new.get("indicators"):
        lines.append("全省指标有更新")
    if not lines:
        lines.append("内容有更新")
    return lines
