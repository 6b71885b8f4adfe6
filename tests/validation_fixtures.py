"""Builders for the validation tests: a warehouse with its code lists, clean rows of E1/P1/R1, staged
frames shaped like ``stg_<form>`` (plus ``file_name``), and facts of earlier periods."""

from __future__ import annotations

import contextlib
import hashlib
import json
import uuid
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa

from techreform.codes import make_uscc
from techreform.forms import form
from techreform.reference import load_reference_tables
from techreform.warehouse import create_schema, engine_for, insert_rows


def prepare_warehouse(url: str) -> sa.Engine:
    """Create the schema and load the code lists, the calendar and the labels."""
    engine = engine_for(url)
    create_schema(engine)
    with engine.begin() as conn:
        load_reference_tables(conn)
    return engine


def uscc(n: int, prefecture: str = "620100") -> str:
    """A valid USCC numbered ``n`` registered in ``prefecture``."""
    return make_uscc(f"91{prefecture}MA{n:07d}")


def e1_row(n: int = 1, period: str = "2013-06", **changes: Any) -> dict[str, Any]:
    row = {
        "uscc": uscc(n),
        "enterprise_name": f"兰州测试企业{n}",
        "region_code": "620102",
        "industry_code": "3311",
        "period": period,
        "gross_output": 1000.0,
        "value_added": 300.0,
        "revenue": 950.0,
        "profit": 50.0,
        "employees": 120.0,
        "rd_expense": 10.0,
        "new_product_output": 100.0,
        "techreform_investment": 200.0,
        "energy_tce": 500.0,
        "water_m3": 1000.0,
        "solid_waste_generated": 100.0,
        "solid_waste_utilized": 80.0,
        "purchase_total": 400.0,
        "ecommerce_purchase": 40.0,
        "ecommerce_sales": 30.0,
    }
    row.update(changes)
    return row


def p1_row(n: int = 1, period: str = "2013-06", **changes: Any) -> dict[str, Any]:
    row = {
        "project_code": f"2013-620102-33-03-{n:06d}",
        "project_name": f"测试技改项目{n}",
        "uscc": uscc(n),
        "region_code": "620102",
        "industry_code": "3311",
        "key_project": 0,
        "planned_total_investment": 5000.0,
        "planned_start": "2013-01",
        "planned_completion": "2014-12",
        "actual_start": "2013-02",
        "actual_completion": None,
        "annual_plan_investment": 2000.0,
        "ytd_investment": 150.0,
        "cumulative_investment": 800.0,
        "status": "在建",
        "subsidy": 0.0,
        "remarks": None,
        "period": period,
    }
    row.update(changes)
    return row


def r1_row(n: int = 1, **changes: Any) -> dict[str, Any]:
    row = {
        "uscc": uscc(n),
        "enterprise_name": f"兰州测试企业{n}",
        "region_code": "620102",
        "industry_code": "3311",
        "scale": "中型",
        "above_scale": 1,
        "key_enterprise": 0,
        "emerging_industry": 0,
        "process_backbone": 0,
        "operating_status": "在营",
        "contact_email": f"stat{n}@example.cn",
    }
    row.update(changes)
    return row


def a1_row(n: int = 1, level: str | None = "省级", **changes: Any) -> dict[str, Any]:
    """An A1 row (the fields derive reads; staged() leaves the others null)."""
    return {"uscc": uscc(n), "enterprise_name": f"兰州测试企业{n}", "year": 2013, "tech_centre_level": level, **changes}


def q1_row(n: int, product: str, quantity: float, period: str = "2013-06", **changes: Any) -> dict[str, Any]:
    """A Q1 row of enterprise ``n``: its year-to-date tonnes of ``product``."""
    return {
        "uscc": uscc(n),
        "enterprise_name": f"兰州测试企业{n}",
        "period": period,
        "product_code": product,
        "quantity_t": quantity,
        **changes,
    }


def staged(form_code: str, period: str, files: Mapping[str, Iterable[Mapping[str, Any]]]) -> pd.DataFrame:
    """A staged frame: ``files`` maps a file name to its rows (source_row 2, 3, ... in each file)."""
    spec = form(form_code)
    records = []
    for seq, (name, rows) in enumerate(files.items(), start=1):
        sha = hashlib.sha256(f"{period}/{name}".encode()).hexdigest()
        for i, row in enumerate(rows, start=2):
            raw = {spec.field(k).header_zh: ("" if v is None else str(v)) for k, v in row.items()}
            records.append(
                {
                    "delivery_period": period,
                    "file_sha256": sha,
                    "source_row": i,
                    "delivery_seq": seq,
                    "raw_json": json.dumps(raw, ensure_ascii=False),
                    **row,
                    "file_name": name,
                }
            )
    columns = [
        "delivery_period",
        "file_sha256",
        "source_row",
        "delivery_seq",
        "raw_json",
        *spec.field_names,
        "file_name",
    ]
    frame = pd.DataFrame.from_records(records, columns=columns)
    for f in spec.fields:
        if f.type in ("decimal", "integer"):
            frame[f.name] = pd.to_numeric(frame[f.name]).astype(float)
        elif f.type == "boolean":
            frame[f.name] = frame[f.name].astype("Int64").astype(object).where(frame[f.name].notna(), None)
        else:
            frame[f.name] = frame[f.name].astype(object).where(frame[f.name].notna(), None)
    return frame


EXPLANATION_HEADERS = ("统一社会信用代码", "项目代码", "报告期", "审核规则", "核实说明", "核实人")


def write_explanations(path: Path, rows: Iterable[Iterable[Any]], headers: Iterable[str] = EXPLANATION_HEADERS) -> None:
    """An explanations delivery (核实说明) at ``path``: CSV (UTF-8 with a BOM) or XLSX, by its suffix."""
    import openpyxl

    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [list(headers), *(list(r) for r in rows)]
    if path.suffix.lower() == ".xlsx":
        book = openpyxl.Workbook()
        for line in lines:
            book.active.append(line)
        book.save(path)
    else:
        path.write_text("\n".join(",".join(map(str, line)) for line in lines) + "\n", encoding="utf-8-sig")


def sha_of(period: str, name: str) -> str:
    return hashlib.sha256(f"{period}/{name}".encode()).hexdigest()


def add_register(conn: sa.Connection, snapshot: str, rows: Iterable[Mapping[str, Any]]) -> None:
    insert_rows(
        conn,
        "dim_enterprise_register",
        [{**r, "snapshot_period": snapshot, "prefecture_code": r["region_code"][:4] + "00"} for r in rows],
    )


def add_enterprise_facts(conn: sa.Connection, rows: Iterable[Mapping[str, Any]]) -> None:
    insert_rows(
        conn,
        "fct_enterprise_monthly",
        [
            {
                **r,
                "prefecture_code": r["region_code"][:4] + "00",
                "review_status": "ok",
                "soft_rule_ids": "",
                "file_sha256": "f" * 64,
                "source_row": 2 + i,
            }
            for i, r in enumerate(rows)
        ],
    )


def add_project_facts(conn: sa.Connection, rows: Iterable[Mapping[str, Any]]) -> None:
    insert_rows(
        conn,
        "fct_project_monthly",
        [
            {
                **r,
                "prefecture_code": r["region_code"][:4] + "00",
                "review_status": "ok",
                "soft_rule_ids": "",
                "file_sha256": "f" * 64,
                "source_row": 2 + i,
            }
            for i, r in enumerate(rows)
        ],
    )


@contextlib.contextmanager
def fresh_database(kind: str, tmp: Path, pg_available: bool) -> Iterator[str]:
    """A fresh warehouse URL for a module-scoped fixture: a SQLite file under ``tmp`` or a new
    PostgreSQL database (dropped afterwards), like conftest's ``warehouse_url`` but reusable."""
    from conftest import PG_ADMIN_URL
    from techreform.warehouse import dispose_engines

    if kind == "sqlite":
        yield f"sqlite:///{tmp / 'warehouse.sqlite'}"
        dispose_engines()
        return
    if not pg_available:
        pytest.skip(f"PostgreSQL at {PG_ADMIN_URL} is not reachable")
    name = f"techreform_v_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'create database "{name}"')
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        dispose_engines()
        with admin.connect() as conn:
            conn.exec_driver_sql(f'drop database if exists "{name}" with (force)')
        admin.dispose()
