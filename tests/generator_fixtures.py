"""Helpers for the generator tests: a small generated province (once per session) and an independent
reader of the delivered files (encoding detection, cell normalisation) so tests can check the data as
the pipeline will see it."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from techreform.forms import form as form_of
from techreform.generator import GeneratorConfig, generate

SMALL = GeneratorConfig(enterprises=150, projects=60, first_period="2012-10", last_period="2013-03")
"""The size other engineers' tests use: every rule id and every planted kind must still appear."""

_FULL = str.maketrans("０１２３４５６７８９．－，", "0123456789.-,")
_NULLS = {"", "-", "—"}


@pytest.fixture(scope="session")
def small_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("province_small")
    generate(out, SMALL)
    return out


def truth(run: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(run / "ground_truth" / name, dtype=str, keep_default_na=False)


def decode_csv(data: bytes) -> tuple[str, str]:
    """(text, detected format) of a CSV delivery: BOM → csv-utf8-sig, valid UTF-8 → csv-utf8, else GB18030."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8"), "csv-utf8-sig"
    try:
        return data.decode("utf-8"), "csv-utf8"
    except UnicodeDecodeError:
        return data.decode("gb18030"), "csv-gb18030"


def read_cells(path: Path) -> tuple[list[str], list[list[object]], str]:
    """Header, raw data rows and detected format of a delivered file."""
    if path.suffix == ".xlsx":
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        rows = [list(r) for r in book.worksheets[0].iter_rows(values_only=True)]
        book.close()
        return [str(h) for h in rows[0]], rows[1:], "xlsx"
    text, fmt = decode_csv(path.read_bytes())
    rows = list(csv.reader(io.StringIO(text)))
    return rows[0], rows[1:], fmt


def normalise(value: object, ftype: str) -> object:
    """A cell as its clean value (``None`` for null); raises ``ValueError`` when it cannot be read."""
    if value is None:
        return None
    if isinstance(value, dt.datetime | dt.date):
        if ftype != "period":
            raise ValueError(f"date in a {ftype} cell")
        return f"{value.year:04d}-{value.month:02d}"
    if isinstance(value, int | float) and not isinstance(value, bool):
        if ftype in ("decimal", "integer"):
            return float(value)
        text = str(int(value)) if float(value).is_integer() else str(value)
    else:
        text = str(value).strip()
    if text in _NULLS:
        return None
    if ftype in ("decimal", "integer"):
        return float(text.translate(_FULL).replace(",", "").replace(" ", ""))
    if ftype == "period":
        m = re.fullmatch(r"(\d{4})-(\d{1,2})|(\d{4})年(\d{1,2})月|(\d{4})(\d{2})", text)
        if not m:
            raise ValueError(f"{text!r} is not a month")
        year, month = [g for g in m.groups() if g is not None]
        if not 1 <= int(month) <= 12:
            raise ValueError(f"{text!r} is not a month")
        return f"{year}-{int(month):02d}"
    if ftype == "boolean":
        mapping = {"是": 1, "否": 0, "Y": 1, "N": 0, "1": 1, "0": 0}
        if text not in mapping:
            raise ValueError(f"{text!r} is not a boolean")
        return mapping[text]
    return text


def read_delivery(path: Path, form_code: str) -> pd.DataFrame:
    """Rows of a delivered file as clean values, canonical column names, ``source_row`` (header = 1) and
    ``unreadable`` (the fields that could not be read)."""
    form = form_of(form_code)
    header, rows, _ = read_cells(path)
    mapping = form.header_map()
    columns = [mapping.get(h) for h in header]
    out = []
    for k, row in enumerate(rows):
        record: dict[str, object] = {"source_row": k + 2, "unreadable": []}
        for name, cell in zip(columns, row, strict=False):
            if name is None:
                continue
            try:
                record[name] = normalise(cell, form.field(name).type)
            except ValueError:
                record[name] = None
                record["unreadable"].append(name)
        out.append(record)
    return pd.DataFrame(out, columns=["source_row", "unreadable", *form.field_names], dtype=object)


def read_form(run: Path, form_code: str) -> pd.DataFrame:
    """Every delivered row of a form with ``period_folder`` and ``file_name``."""
    form = form_of(form_code)
    frames = []
    for path in sorted((run / "landing" / form.name).glob("*/*")):
        frame = read_delivery(path, form_code)
        frame["period_folder"] = path.parent.name
        frame["source_row"] = frame["source_row"].astype(int)
        frame["file_name"] = path.name
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


# ------------------------------------------------------------------------------------------------------
# An independent reading of the rules of shared/spec/reporting-forms.md, to hold the planted defects against.
from techreform.codes import is_valid_uscc  # noqa: E402
from techreform.config import REFERENCE_DIR  # noqa: E402

E1_AMOUNTS = (
    "gross_output",
    "value_added",
    "revenue",
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
P1_AMOUNTS = (
    "planned_total_investment",
    "annual_plan_investment",
    "ytd_investment",
    "cumulative_investment",
    "subsidy",
)
PROJECT_CODE = re.compile(r"^\d{4}-62\d{4}-\d{2}-\d{2}-\d{6}$")


def _reference() -> tuple[list[dict[str, str]], set[str]]:
    with open(REFERENCE_DIR / "gansu_divisions.csv", encoding="utf-8") as fh:
        divisions = [r for r in csv.DictReader(fh) if r["level"] == "county"]
    with open(REFERENCE_DIR / "industry_divisions_gbt4754_2011.csv", encoding="utf-8") as fh:
        industries = {r["division"] for r in csv.DictReader(fh) if r["section"] in ("B", "C", "D")}
    return divisions, industries


_COUNTIES, _INDUSTRIES = _reference()


def county_valid(code: object, period: str) -> bool:
    return any(
        c["code"] == code
        and (not c["valid_from"] or c["valid_from"] <= period)
        and (not c["valid_to"] or period < c["valid_to"])
        for c in _COUNTIES
    )


def industry_valid(code: object) -> bool:
    return isinstance(code, str) and len(code) == 4 and code.isdigit() and code[:2] in _INDUSTRIES


def _null(v: object) -> bool:
    return v is None or (isinstance(v, float) and v != v)


def register_in_force(r1: pd.DataFrame, hard_r1: set[tuple[str, int]], period: str) -> dict[str, dict]:
    """Accepted rows of the latest register snapshot delivered for a month ≤ period, by uscc."""
    folders = sorted(p for p in r1["period_folder"].unique() if p <= period)
    if not folders:
        return {}
    snap = r1[r1["period_folder"] == folders[-1]]
    return {r["uscc"]: r for r in snap.to_dict("records") if (r["file_name"], r["source_row"]) not in hard_r1}


def hard_rows(defects: pd.DataFrame, form: str) -> set[tuple[str, int]]:
    d = defects[(defects["form"] == form) & (defects["severity"] == "hard")]
    return set(zip(d["file_name"], d["source_row"].astype(int), strict=True))


def row_rules(defects: pd.DataFrame, form: str) -> dict[tuple[str, int], set[str]]:
    out: dict[tuple[str, int], set[str]] = {}
    d = defects[defects["form"] == form]
    for f, r, rule in zip(d["file_name"], d["source_row"].astype(int), d["rule_id"], strict=True):
        out.setdefault((f, r), set()).add(rule)
    return out


def e1_broken(
    e1: pd.DataFrame, r1: pd.DataFrame, p1: pd.DataFrame, defects: pd.DataFrame
) -> dict[tuple[str, int], set[str]]:
    """Rules each E1 row breaks by this independent reading (S08 only where the month's increment of
    工业总产值 is over 10 times the period's median increment ratio)."""
    hard_e1, hard_r1, hard_p1 = hard_rows(defects, "E1"), hard_rows(defects, "R1"), hard_rows(defects, "P1")
    e1 = e1.assign(_dup=e1.duplicated(["file_name", "uscc", "period"], keep=False).to_numpy())
    p1_ok = p1[[(f, r) not in hard_p1 for f, r in zip(p1["file_name"], p1["source_row"], strict=True)]]
    p1_sum = p1_ok.groupby(["uscc", "period_folder"])["ytd_investment"].sum().to_dict()
    registers = {p: register_in_force(r1, hard_r1, p) for p in e1["period_folder"].unique()}
    out: dict[tuple[str, int], set[str]] = {}
    required = [f.name for f in form_of("E1").required_fields]
    last: dict[tuple[str, str], dict] = {}
    ratios: dict[tuple[str, int], float] = {}
    for r in e1.sort_values(["period_folder", "file_name", "source_row"]).to_dict("records"):
        key = (r["file_name"], r["source_row"])
        broken: set[str] = set()
        if r["unreadable"]:
            broken.add("E1-H00")
        if not is_valid_uscc(r["uscc"]):
            broken.add("E1-H01")
        if r["_dup"]:
            broken.add("E1-H02")
        if _null(r["enterprise_name"]):
            broken.add("E1-H03")
        if not county_valid(r["region_code"], r["period_folder"]):
            broken.add("E1-H04")
        if not industry_valid(r["industry_code"]):
            broken.add("E1-H05")
        if r["period"] is not None and r["period"] != r["period_folder"]:
            broken.add("E1-H06")
        amounts = [r[a] for a in E1_AMOUNTS if not _null(r[a])]
        if any(a < 0 for a in amounts) or (not _null(r["employees"]) and not float(r["employees"]).is_integer()):
            broken.add("E1-H07")
        if any(_null(r[f]) for f in required if f not in r["unreadable"]):
            broken.add("E1-H08")
        hard = bool(broken) or key in hard_e1
        if not broken:
            g = lambda name: 0.0 if _null(r[name]) else float(r[name])  # noqa: E731, B023 - used at once
            if g("value_added") > g("gross_output"):
                broken.add("E1-S01")
            if abs(g("profit")) > g("revenue"):
                broken.add("E1-S02")
            if g("employees") < 1:
                broken.add("E1-S03")
            if g("rd_expense") > g("revenue") or g("new_product_output") > g("gross_output"):
                broken.add("E1-S04")
            if g("ecommerce_purchase") > g("purchase_total") or g("ecommerce_sales") > g("revenue"):
                broken.add("E1-S05")
            if g("solid_waste_utilized") > 1.5 * g("solid_waste_generated"):
                broken.add("E1-S06")
            prev = last.get((r["uscc"], r["period_folder"][:4]))
            if prev is not None:
                if any(not _null(r[a]) and not _null(prev[a]) and r[a] < prev[a] for a in E1_AMOUNTS):
                    broken.add("E1-S07")
                if prev["gross_output"] > 0:
                    ratios[key] = (r["gross_output"] - prev["gross_output"]) / prev["gross_output"]
            reg = registers[r["period_folder"]].get(r["uscc"])
            if reg is None or reg["region_code"] != r["region_code"] or reg["industry_code"] != r["industry_code"]:
                broken.add("E1-S09")
            if g("techreform_investment") < p1_sum.get((r["uscc"], r["period_folder"]), 0.0):
                broken.add("E1-S10")
        if not hard:
            last[(r["uscc"], r["period_folder"][:4])] = r
        out[key] = broken
    by_period: dict[str, list[float]] = {}
    for (f, _), v in ratios.items():
        by_period.setdefault(f.split("_")[2][:7], []).append(v)
    medians = {p: float(pd.Series(v).median()) for p, v in by_period.items()}
    for (f, row), v in ratios.items():
        if v > 10 * max(medians[f.split("_")[2][:7]], 1e-9):
            out[(f, row)].add("E1-S08")
    return out


def p1_broken(p1: pd.DataFrame, r1: pd.DataFrame, defects: pd.DataFrame) -> dict[tuple[str, int], set[str]]:
    hard_r1, hard_p1 = hard_rows(defects, "R1"), hard_rows(defects, "P1")
    dup = p1.duplicated(["file_name", "project_code", "period"], keep=False).to_numpy()
    registers = {p: register_in_force(r1, hard_r1, p) for p in p1["period_folder"].unique()}
    required = [f.name for f in form_of("P1").required_fields]
    out: dict[tuple[str, int], set[str]] = {}
    last: dict[str, dict] = {}
    frame = p1.assign(_dup=dup).sort_values(["period_folder", "file_name", "source_row"])
    for r in frame.to_dict("records"):
        key = (r["file_name"], r["source_row"])
        broken: set[str] = set()
        folder = r["period_folder"]
        if r["unreadable"]:
            broken.add("P1-H00")
        if not PROJECT_CODE.match(str(r["project_code"])) or r["_dup"]:
            broken.add("P1-H01")
        if not is_valid_uscc(r["uscc"]):
            broken.add("P1-H02")
        if not county_valid(r["region_code"], folder) or not industry_valid(r["industry_code"]):
            broken.add("P1-H03")
        total = r["planned_total_investment"]
        if (not _null(total) and total <= 0) or any(not _null(r[a]) and r[a] < 0 for a in P1_AMOUNTS[1:]):
            broken.add("P1-H04")
        if (r["planned_start"] and r["planned_completion"] and r["planned_start"] > r["planned_completion"]) or (
            r["actual_start"] and r["actual_start"] > folder
        ):
            broken.add("P1-H05")
        status = r["status"]
        if (
            status not in ("未开工", "在建", "停建", "竣工", "投产")
            or (status in ("在建", "停建", "竣工", "投产") and not r["actual_start"])
            or (status in ("竣工", "投产") and not r["actual_completion"])
        ):
            broken.add("P1-H06")
        if (
            not _null(r["cumulative_investment"])
            and not _null(r["ytd_investment"])
            and r["cumulative_investment"] < r["ytd_investment"] - 0.5
        ):
            broken.add("P1-H07")
        if any(_null(r[f]) for f in required if f not in r["unreadable"]) or (r["period"] and r["period"] != folder):
            broken.add("P1-H08")
        hard = bool(broken) or key in hard_p1
        if not broken:
            if r["cumulative_investment"] > 1.2 * total:
                broken.add("P1-S01")
            if r["annual_plan_investment"] > total:
                broken.add("P1-S02")
            if r["uscc"] not in registers[folder]:
                broken.add("P1-S03")
            prev = last.get(r["project_code"])
            if prev is not None and (
                (prev["period_folder"][:4] == folder[:4] and r["ytd_investment"] < prev["ytd_investment"])
                or r["cumulative_investment"] < prev["cumulative_investment"]
            ):
                broken.add("P1-S04")
            if status == "未开工" and r["cumulative_investment"] > 0:
                broken.add("P1-S05")
        if not hard:
            last[r["project_code"]] = r
        out[key] = broken
    return out


def r1_broken(r1: pd.DataFrame) -> dict[tuple[str, int], set[str]]:
    dup = r1.duplicated(["file_name", "uscc"], keep=False).to_numpy()
    out = {}
    for r, d in zip(r1.to_dict("records"), dup, strict=True):
        broken = set()
        if r["unreadable"]:
            broken.add("R1-H00")
        if not is_valid_uscc(r["uscc"]):
            broken.add("R1-H01")
        if d:
            broken.add("R1-H02")
        if not county_valid(r["region_code"], r["period_folder"]):
            broken.add("R1-H03")
        if not industry_valid(r["industry_code"]):
            broken.add("R1-H04")
        if r["scale"] not in ("大型", "中型", "小型", "微型") or r["operating_status"] not in ("在营", "停产", "注销"):
            broken.add("R1-H05")
        out[(r["file_name"], r["source_row"])] = broken
    return out
