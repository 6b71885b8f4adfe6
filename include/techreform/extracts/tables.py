"""The tables of an extract, defined once: columns (Chinese and English names, type, unit), key, and
the query that fills them. ``enterprise_monthly`` and ``project_monthly`` take their columns from the
reporting forms (:mod:`techreform.forms`); the data dictionary is generated from these definitions.

Types, as written to Parquet and stated in the dictionary: ``string`` (every code, so that leading
zeros survive), ``float64`` (amounts in 万元 and other measures: the warehouse holds them as double
precision, so a decimal type would claim a precision the data never had), ``int64`` (counts; nullable
where stated), ``bool``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

import pandas as pd
from sqlalchemy.engine import Connection

from techreform.forms import ENTERPRISE_MONTHLY, PROJECT_MONTHLY, Field, Form
from techreform.periods import Period
from techreform.warehouse import read_frame

ColumnType = Literal["string", "float64", "int64", "bool"]


@dataclass(frozen=True)
class Column:
    name: str
    name_zh: str
    name_en: str
    type: ColumnType
    unit: str = ""


@dataclass(frozen=True)
class TableSpec:
    name: str
    title_zh: str
    title_en: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"table {self.name} has no column {name!r}")


_FORM_TYPES: dict[str, ColumnType] = {
    "text": "string",
    "decimal": "float64",
    "integer": "int64",
    "period": "string",
    "boolean": "bool",
    "enum": "string",
}


def _from_field(f: Field) -> Column:
    return Column(f.name, f.header_zh, f.description_en or f.name, _FORM_TYPES[f.type], f.unit)


REVIEW_COLUMNS = (
    Column("prefecture_code", "市州代码", "Prefecture code (GB/T 2260)", "string"),
    Column(
        "review_status", "审核状态", "Review status: ok, query (待核实), explained (a soft failure explained)", "string"
    ),
    Column("soft_rule_ids", "违反的提示性规则", "Soft rules broken, comma-separated", "string"),
)


def _form_table(form_: Form, name_zh: str, name_en: str) -> TableSpec:
    fields = [_from_field(f) for f in form_.fields]
    period = [c for c in fields if c.name == "period"]
    others = [c for c in fields if c.name != "period"]
    return TableSpec(
        form_.name, name_zh, name_en, tuple(k for k in form_.key if k != "period"), (*period, *others, *REVIEW_COLUMNS)
    )


def _c(name: str, zh: str, en: str, type_: ColumnType = "string", unit: str = "") -> Column:
    return Column(name, zh, en, type_, unit)


ENTERPRISE_TABLE = _form_table(ENTERPRISE_MONTHLY, "企业月报(已入库)", "Enterprise monthly report, accepted rows")
PROJECT_TABLE = _form_table(PROJECT_MONTHLY, "项目月报(已入库)", "Project monthly report, accepted rows")

INDICATOR_TABLE = TableSpec(
    "indicators",
    "统计指标",
    "Indicators",
    ("indicator_code", "level", "area_code"),
    (
        _c("period", "报告期", "Report period"),
        _c("indicator_code", "指标代码", "Indicator code"),
        _c("indicator_name_zh", "指标名称", "Indicator name (Chinese)"),
        _c("indicator_name_en", "指标英文名称", "Indicator name (English)"),
        _c("level", "层级", "Level: province, prefecture, sector_group"),
        _c("area_code", "地区或板块代码", "Area: division code or sector group"),
        _c("area_name", "地区或板块名称", "Area name"),
        _c("value", "指标值", "Value (unit in column unit)", "float64"),
        _c("unit", "计量单位", "Unit of value, target and baseline"),
        _c("value_same_period_last_year", "上年同期", "Same period last year, comparable basis", "float64"),
        _c("baseline_2010", "2010年基数", "2010 baseline, where the target is relative to it", "float64"),
        _c("target", "本期目标", "Target for the period (straight path to 2015)", "float64"),
        _c("target_2015", "2015年目标", "Target for 2015", "float64"),
        _c("status", "状态", "Status: met, on_track, lagging, no_target, no_data"),
    ),
)

SUPERVISION_TABLE = TableSpec(
    "supervision",
    "项目督办",
    "Project supervision",
    ("project_code",),
    (
        _c("period", "报告期", "Report period"),
        _c("project_code", "项目代码", "Project code"),
        _c("project_name", "项目名称", "Project name"),
        _c("uscc", "项目单位统一社会信用代码", "Project unit's USCC"),
        _c("enterprise_name", "项目单位名称", "Project unit's name"),
        _c("region_code", "建设地点行政区划代码", "County of the site"),
        _c("county_name", "县区名称", "County name"),
        _c("prefecture_code", "市州代码", "Prefecture code"),
        _c("prefecture_name", "市州名称", "Prefecture name"),
        _c("key_project", "是否省列重点项目", "Provincial key project", "bool"),
        _c("annual_plan_investment", "本年计划投资", "Investment planned this year", "float64", "万元"),
        _c("ytd_investment", "本年累计完成投资", "Investment done this year", "float64", "万元"),
        _c("lag_pp", "序时进度滞后", "Schedule lag", "float64", "百分点"),
        _c("light", "灯色", "Light: green, yellow, red"),
        _c("reasons", "亮灯原因", "Rules that fired, ';'-joined"),
        _c("escalated", "是否升级督办", "Escalated to the province", "bool"),
        _c("source", "判断依据", "Row the light is judged on: accepted, quarantined, missing"),
        _c("case_id", "督办事项编号", "Open supervision case"),
        _c("case_opened_period", "督办开始期", "Period the case opened"),
        _c("case_months_open", "督办月数", "Periods the case has been open", "int64", "月"),
    ),
)

QUALITY_TABLE = TableSpec(
    "quality",
    "数据质量",
    "Data quality",
    ("form", "prefecture_code"),
    (
        _c("period", "报告期", "Report period"),
        _c("form", "报表", "Form: E1, P1, R1, S1"),
        _c("prefecture_code", "市州代码", "Prefecture code ('' when unknown)"),
        _c("prefecture_name", "市州名称", "Prefecture name"),
        _c("received", "接收行数", "Rows received", "int64", "行"),
        _c("accepted", "入库行数", "Rows accepted", "int64", "行"),
        _c("quarantined", "隔离行数", "Rows quarantined (hard rule broken)", "int64", "行"),
        _c("queried", "待核实行数", "Rows accepted with a soft rule to query", "int64", "行"),
        _c("superseded", "被替代行数", "Rows replaced by a later delivery", "int64", "行"),
        _c("expected_reporters", "应报企业数", "Enterprises expected to report (E1)", "int64", "家"),
        _c("reporting_enterprises", "已报企业数", "Expected enterprises that reported (E1)", "int64", "家"),
        _c("reporting_rate", "报送率", "Reporting rate (E1)", "float64", "%"),
        _c("rules_broken", "违反规则及次数", "Rules broken and how often: 'rule:rows', '; '-joined"),
    ),
)

DICTIONARY_TABLE = TableSpec(
    "data_dictionary",
    "数据字典",
    "Data dictionary",
    ("table_name", "column_name"),
    (
        _c("table_name", "表名", "Table"),
        _c("table_name_zh", "表中文名", "Table name (Chinese)"),
        _c("column_name", "字段名", "Column"),
        _c("position", "序号", "Position of the column, from 1", "int64"),
        _c("name_zh", "中文名称", "Chinese name"),
        _c("name_en", "英文名称", "English name"),
        _c("type", "数据类型", "Type in Parquet: string, float64, int64, bool"),
        _c("unit", "计量单位", "Unit"),
        _c("key", "是否主键", "Part of the table's key", "bool"),
    ),
)

PUBLIC_TABLE = TableSpec(
    "aggregates",
    "公开汇总表",
    "Public aggregates, prefecture × sector group",
    ("measure", "prefecture_code", "sector_group"),
    (
        _c("period", "报告期", "Report period"),
        _c("measure", "指标", "Measure"),
        _c("measure_zh", "指标名称", "Measure (Chinese)"),
        _c("unit", "计量单位", "Unit of value"),
        _c("prefecture_code", "市州代码", "Prefecture code; 620000 = the province (column total)"),
        _c("prefecture_name", "市州名称", "Prefecture name"),
        _c("sector_group", "行业板块", "Sector group; 合计 = all groups (row total)"),
        _c("value", "数值", "Value; empty when suppressed", "float64"),
        _c("suppressed", "保密标识", "'' published, 'primary' (too few or dominated), 'secondary' (protects another)"),
    ),
)

TABLES: tuple[TableSpec, ...] = (
    ENTERPRISE_TABLE,
    PROJECT_TABLE,
    INDICATOR_TABLE,
    SUPERVISION_TABLE,
    QUALITY_TABLE,
    DICTIONARY_TABLE,
)
"""The tables of ``extracts/<YYYY-MM>/r<N>/``, in the order of the workbook's sheets."""
PUBLIC_TABLES: tuple[TableSpec, ...] = (PUBLIC_TABLE,)
"""The tables of ``extracts/<YYYY-MM>/r<N>/public/``."""


class PeriodNotReady(RuntimeError):
    """The period has not been validated, or its indicators or supervision have not run yet."""


def check_ready(conn: Connection, period: Period) -> None:
    """Raise :class:`PeriodNotReady` unless the period's validation, indicators and supervision ran."""
    row = read_frame(conn, "marts/extracts/readiness", period=str(period)).iloc[0]
    missing = [
        what
        for what, n in (
            ("validation (E1 row outcomes)", row.validated_rows),
            ("indicators", row.indicator_rows),
            ("supervision", row.supervision_runs),
        )
        if not n
    ]
    if missing:
        raise PeriodNotReady(f"{period}: no extract before {', '.join(missing)} ran for the period")


def typed(spec: TableSpec, frame: pd.DataFrame) -> pd.DataFrame:
    """The frame's columns of ``spec``, in order, as nullable pandas types matching the column types."""
    out = pd.DataFrame(index=range(len(frame)))
    for c in spec.columns:
        values = frame[c.name].reset_index(drop=True) if c.name in frame else pd.Series([None] * len(frame))
        values = values.astype(object).where(values.notna(), None)
        if c.type == "string":
            out[c.name] = pd.array([None if v is None else str(v) for v in values], dtype="string")
        elif c.type == "float64":
            out[c.name] = pd.array([None if v is None else float(v) for v in values], dtype="Float64")
        elif c.type == "int64":
            out[c.name] = pd.array([None if v is None else int(v) for v in values], dtype="Int64")
        else:
            out[c.name] = pd.array([None if v is None else bool(int(v)) for v in values], dtype="boolean")
    return out.sort_values(list(spec.key), kind="stable", ignore_index=True) if len(out) else out


def _rules_broken(conn: Connection, period: Period) -> dict[tuple[str, str], str]:
    rules = read_frame(conn, "marts/extracts/quality_rules", period=str(period))
    out: dict[tuple[str, str], list[str]] = {}
    for r in rules.itertuples():
        out.setdefault((r.form, r.prefecture_code or ""), []).append(f"{r.rule_id}:{int(r.rows_broken)}")
    return {k: "; ".join(v) for k, v in out.items()}


def _quality(conn: Connection, period: Period) -> pd.DataFrame:
    """The run summary's counts per form and prefecture, with the E1 reporting rate of the prefecture."""
    counts = read_frame(conn, "marts/reports/form_prefecture_counts", period=str(period))
    completeness = read_frame(conn, "marts/extracts/completeness", period=str(period))
    frame = counts.merge(completeness, on="prefecture_code", how="left")
    for column in ("expected_reporters", "reporting_enterprises", "reporting_rate"):
        frame[column] = frame[column].where(frame["form"] == "E1")
    frame.insert(0, "period", str(period))
    rules = _rules_broken(conn, period)
    frame["rules_broken"] = [
        rules.get((f, p), "") for f, p in zip(frame["form"], frame["prefecture_code"], strict=True)
    ]
    return frame


def data_dictionary(specs: tuple[TableSpec, ...] = TABLES + PUBLIC_TABLES) -> pd.DataFrame:
    """One row per column of every table (the dictionary describes itself and the public tables too)."""
    rows = [
        {
            "table_name": s.name if s not in PUBLIC_TABLES else f"public/{s.name}",
            "table_name_zh": s.title_zh,
            "column_name": c.name,
            "position": i,
            "name_zh": c.name_zh,
            "name_en": c.name_en,
            "type": c.type,
            "unit": c.unit,
            "key": c.name in s.key,
        }
        for s in specs
        for i, c in enumerate(s.columns, start=1)
    ]
    return pd.DataFrame(rows)


_QUERIES: Mapping[str, Callable[[Connection, Period], pd.DataFrame]] = {
    ENTERPRISE_TABLE.name: lambda conn, p: read_frame(conn, "marts/extracts/enterprise_monthly", period=str(p)),
    PROJECT_TABLE.name: lambda conn, p: read_frame(conn, "marts/extracts/project_monthly", period=str(p)),
    INDICATOR_TABLE.name: lambda conn, p: read_frame(conn, "marts/extracts/indicators", period=str(p)),
    SUPERVISION_TABLE.name: lambda conn, p: read_frame(conn, "marts/extracts/supervision", period=str(p)),
    QUALITY_TABLE.name: _quality,
    DICTIONARY_TABLE.name: lambda conn, p: data_dictionary(),
}


def build_tables(conn: Connection, period: Period) -> dict[str, pd.DataFrame]:
    """Every table of :data:`TABLES` for the period, typed and sorted by key."""
    return {spec.name: typed(spec, _QUERIES[spec.name](conn, period)) for spec in TABLES}
