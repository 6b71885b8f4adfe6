"""Helpers for the indicator tests: a warehouse with schema and code lists, fact rows written directly
with insert_rows, random facts for independent recomputation in pandas, and reading results."""

from __future__ import annotations

import random
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from techreform.codes import make_uscc
from techreform.reference import industry_divisions, load_reference_tables, prefectures
from techreform.warehouse import create_schema, engine_for, insert_rows

PREFECTURES = tuple(prefectures())
"""The 14 prefectures (市州) of the shipped GB/T 2260 list, in code order."""
INDUSTRIES = ("3110", "2511", "3911", "2710", "1310", "3011", "4411", "0610", "3210", "3510")
E1_AMOUNTS = (
    "gross_output",
    "value_added",
    "revenue",
    "profit",
    "employees",
    "rd_expense",
    "new_product_output",
    "techreform_investment",
    "energy_tce",
    "water_m3",
    "solid_waste_generated",
    "solid_waste_utilized",
    "purchase_total",
    "ecommerce_purchase",
    "ecommerce_sales",
)


def warehouse(url: str) -> Engine:
    """A warehouse with every table and the code lists loaded."""
    engine = engine_for(url)
    create_schema(engine)
    with engine.begin() as conn:
        load_reference_tables(conn)
    return engine


def uscc(n: int) -> str:
    return make_uscc(f"91620100MA{n:07d}")


def sector_of(industry_code: str) -> str:
    return industry_divisions()[industry_code[:2]]["sector_group"]


def accepted_fact_bookkeeping(n: int) -> dict[str, Any]:
    """The load's bookkeeping columns of an accepted fact row from row ``n + 1`` of one file: no query,
    no soft rule (the one place the test fact builders take them from)."""
    return {"review_status": "ok", "soft_rule_ids": "", "file_sha256": "0" * 64, "source_row": n + 1}


def enterprise(period: str, n: int, prefecture: str = "620100", industry: str = "3110", **amounts: Any) -> dict:
    """An accepted E1 fact row of enterprise number ``n``; amounts default to plausible round values."""
    row: dict[str, Any] = {
        "period": period,
        "uscc": uscc(n),
        "enterprise_name": f"企业{n}",
        "region_code": prefecture[:4] + "02",
        "prefecture_code": prefecture,
        "industry_code": industry,
        "gross_output": 1000.0,
        "value_added": 300.0,
        "revenue": 900.0,
        "profit": 60.0,
        "employees": 100,
        "rd_expense": 10.0,
        "new_product_output": 80.0,
        "techreform_investment": 50.0,
        "energy_tce": 400.0,
        "water_m3": 2000.0,
        "solid_waste_generated": 100.0,
        "solid_waste_utilized": 70.0,
        "purchase_total": 500.0,
        "ecommerce_purchase": 50.0,
        "ecommerce_sales": 100.0,
        **accepted_fact_bookkeeping(n),
    }
    row.update(amounts)
    return row


def register_row(snapshot: str, n: int, prefecture: str = "620100", industry: str = "3110", **fields: Any) -> dict:
    row: dict[str, Any] = {
        "snapshot_period": snapshot,
        "uscc": uscc(n),
        "enterprise_name": f"企业{n}",
        "region_code": prefecture[:4] + "02",
        "prefecture_code": prefecture,
        "industry_code": industry,
        "scale": "中型",
        "above_scale": 1,
        "key_enterprise": 0,
        "emerging_industry": 0,
        "process_backbone": 0,
        "operating_status": "在营",
        "contact_email": f"e{n}@example.cn",
    }
    row.update(fields)
    return row


def project(period: str, n: int, prefecture: str = "620100", industry: str = "3110", **fields: Any) -> dict:
    row: dict[str, Any] = {
        "period": period,
        "project_code": f"2012-62{n:04d}-31-03-{n:06d}",
        "project_name": f"项目{n}",
        "uscc": uscc(n),
        "region_code": prefecture[:4] + "02",
        "prefecture_code": prefecture,
        "industry_code": industry,
        "key_project": 0,
        "planned_total_investment": 5000.0,
        "planned_start": "2012-01",
        "planned_completion": "2014-12",
        "actual_start": "2012-01",
        "actual_completion": None,
        "annual_plan_investment": 1200.0,
        "ytd_investment": 600.0,
        "cumulative_investment": 600.0,
        "status": "在建",
        "subsidy": None,
        "remarks": None,
        **accepted_fact_bookkeeping(n),
    }
    row.update(fields)
    return row


def insert(engine: Engine, table: str, rows: list[dict]) -> None:
    with engine.begin() as conn:
        insert_rows(conn, table, rows)


def random_facts(seed: int, periods: list[str], enterprises: int = 60) -> list[dict]:
    """E1 facts of ``enterprises`` enterprises over ``periods``: some enter late or leave early, some
    leave optional fields blank, some make losses. YTD amounts grow with the month."""
    rng = random.Random(seed)
    rows = []
    for n in range(1, enterprises + 1):
        prefecture = rng.choice(PREFECTURES)
        industry = rng.choice(INDUSTRIES)
        size = rng.uniform(0.2, 5.0) * (400 if n % 17 == 0 else 1)  # a few giants (千亿元 candidates)
        first, last = sorted(rng.sample(range(len(periods) + 3), 2))
        for i, period in enumerate(periods):
            if not (first <= i + 1 <= last + 1) and n % 3 == 0:
                continue  # enters late / leaves early
            month = int(period[5:])
            ytd = size * month * rng.uniform(0.8, 1.2)
            gross = 1000.0 * ytd
            amounts = {
                "gross_output": gross,
                "value_added": gross * rng.uniform(0.2, 0.35),
                "revenue": gross * rng.uniform(0.85, 1.0),
                "profit": gross * rng.uniform(-0.08, 0.12),
                "employees": int(50 + 400 * size),
                "rd_expense": None if n % 5 == 0 else gross * rng.uniform(0, 0.03),
                "new_product_output": gross * rng.uniform(0, 0.2),
                "techreform_investment": 0.0 if n % 11 == 0 else gross * rng.uniform(0.01, 0.1),
                "energy_tce": gross * rng.uniform(0.1, 0.6),
                "water_m3": None if n % 4 == 0 else gross * rng.uniform(1, 3),
                "solid_waste_generated": gross * 0.05,
                "solid_waste_utilized": gross * rng.uniform(0.02, 0.06),
                "purchase_total": None if n % 7 == 0 else gross * 0.6,
                "ecommerce_purchase": gross * 0.05,
                "ecommerce_sales": gross * rng.uniform(0.0, 0.2),
            }
            rows.append(enterprise(period, n, prefecture, industry, **amounts))
    return rows


def indicator_frame(engine: Engine, period: str | None = None) -> pd.DataFrame:
    """fct_indicator (one period, or every period), sorted by its key, as a DataFrame."""
    statement = "select * from fct_indicator" + ("" if period is None else " where period = :p")
    with engine.connect() as conn:
        frame = pd.read_sql_query(sa.text(statement), conn, params={"p": period})
    key = ["period", "indicator_code", "level", "area_code"]
    return frame.sort_values(key).reset_index(drop=True)


def cell(frame: pd.DataFrame, code: str, level: str = "province", area: str = "620000") -> pd.Series:
    rows = frame[(frame.indicator_code == code) & (frame.level == level) & (frame.area_code == area)]
    assert len(rows) == 1, f"{code}/{level}/{area}: {len(rows)} rows"
    return rows.iloc[0]
