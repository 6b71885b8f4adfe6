"""``generate``: the whole sample province, landing files and ground truth, for one configuration."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import numpy as np
import pandas as pd

from techreform.forms import form as form_of
from techreform.periods import period_range
from techreform.reference import PROVINCE_CODE

from .annual import build_a1, build_g1, build_q1, g1_snapshots, outsider_usccs
from .config import RULE_IDS, GenerationSummary, GeneratorConfig
from .defects import SEVERITY, Delivery, plant_e1, plant_p1, plant_r1
from .defects_annual import plant_a1, plant_g1, plant_q1
from .monthly import build_enterprise_monthly
from .names import person_name
from .population import OPERATING, build_population
from .projects import build_projects, move_to_unregistered_units
from .rand import rng_for
from .reference import prefectures
from .truth import compute_lights, write_csv
from .writers import WrittenFile, write_file


def _order(frame: pd.DataFrame) -> np.ndarray:
    """Position of each row inside its file: by region, then by code (project code or USCC)."""
    code = "project_code" if "project_code" in frame.columns else "uscc"
    key = frame["region_code"].astype(str) + "|" + frame[code].astype(str)
    return key.rank(method="dense").to_numpy(dtype=float)


def supervisors(config: GeneratorConfig) -> pd.DataFrame:
    """S1: 2–3 supervisors per prefecture, one statistics contact (统计联络员, who gets the review receipts)
    per prefecture, and 2 for the province, addresses under ``gsgxw.example`` only."""
    rng = rng_for(config.seed, "supervisors")
    rows = []
    for p in prefectures():
        for k in range(int(rng.integers(2, 4))):
            role = ("市州工信局督查科", "市州工信局投资科", "市州工信局办公室")[k]
            rows.append(
                {
                    "region_code": p.code,
                    "name": person_name(rng),
                    "email": f"duban{p.code}{'abc'[k]}@gsgxw.example",
                    "role": role,
                }
            )
    contacts = rng_for(config.seed, "statistics_contacts")  # its own stream: the supervisors stay as they were
    for p in prefectures():
        rows.append(
            {
                "region_code": p.code,
                "name": person_name(contacts),
                "email": f"tongji{p.code}@gsgxw.example",
                "role": "市州工信局统计联络员",
            }
        )
    for k, role in enumerate(("省工信委投资处", "省工信委督查室")):
        rows.append(
            {
                "region_code": PROVINCE_CODE,
                "name": person_name(rng),
                "email": f"duban{PROVINCE_CODE}{'ab'[k]}@gsgxw.example",
                "role": role,
            }
        )
    return pd.DataFrame(rows)


def generate(out_dir: Path, config: GeneratorConfig | None = None) -> GenerationSummary:
    """Write landing files and ground truth for ``config`` under ``out_dir``.

    Layout: ``out_dir/landing/<form name>/<YYYY-MM>/<CODE>_<region>_<YYYY-MM>.<csv|xlsx>`` and
    ``out_dir/ground_truth/{defects,files,lights,planted}.csv, summary.json``. Folders of an earlier
    run in ``out_dir`` (those two) are replaced. Deterministic: the same config gives the same bytes."""
    config = config or GeneratorConfig()
    started = time.perf_counter()
    out_dir = Path(out_dir)
    landing, truth_dir = out_dir / "landing", out_dir / "ground_truth"
    for old in (landing, truth_dir):
        if old.exists():
            shutil.rmtree(old)
    periods = [str(p) for p in period_range(config.first_period, config.last_period)]
    forms = set(config.forms)

    population = build_population(config)
    ents = population.enterprises

    # ---- P1 ------------------------------------------------------------------------------------------
    with_projects = "P1" in forms  # with 0 projects: header-only P1 files
    projects, p1_clean = build_projects(config, population) if with_projects else ([], None)
    unregistered: list[int] = []
    p1 = None
    if with_projects:
        n_unreg = max(1, round(config.defect_rate * config.projects)) if config.defect_rate > 0 else 0
        unregistered = move_to_unregistered_units(config, projects, p1_clean, n_unreg)
        frame = p1_clean.sort_values(["_project", "period"], kind="stable").reset_index(drop=True)
        frame["_folder"] = frame["period"]
        frame["_file"] = frame["prefecture_code"]
        frame["_order"] = _order(frame)
        p1 = Delivery("P1", frame)
        planted = {p.number for p in projects if p.plant}
        plant_p1(config, p1, planted | set(unregistered))
        for idx in frame.index[frame["_project"].isin(unregistered)]:
            p1.add(int(idx), "P1-S03", "uscc", "项目单位 is not in the register (R1)")
        p1.finish()

    # projects' year-to-date per enterprise: the most any reading of P1 could give (E1 keeps above it),
    # and what the accepted rows give (E1-S10 defects go below it)
    upper = pd.DataFrame(columns=["_ent", "period", "ytd"])
    accepted: dict[tuple[int, str], float] = {}
    totals: dict[int, float] = {}
    if p1 is not None:
        f = p1.frame
        owned = f[f["_owner"] >= 0]
        ytd = pd.to_numeric(owned["ytd_investment"], errors="coerce").fillna(0).clip(lower=0)
        parts = [pd.DataFrame({"_ent": owned["_owner"], "period": owned["_folder"], "ytd": ytd})]
        moved = owned["period"] != owned["_folder"]
        parts.append(
            pd.DataFrame({"_ent": owned["_owner"][moved], "period": owned["period"][moved], "ytd": ytd[moved]})
        )
        upper = pd.concat(parts).groupby(["_ent", "period"], as_index=False)["ytd"].sum()
        hard = p1.hard_rows()
        ok = owned[~owned.index.isin(list(hard))]
        for (e, period), v in ok.groupby(["_owner", "_folder"])["ytd_investment"].sum().items():
            accepted[(int(e), period)] = float(v)
        clean = p1_clean.assign(year=p1_clean["period"].str[:4].astype(int))
        totals = clean.groupby(["_project", "year"])["ytd_investment"].max().groupby("year").sum().to_dict()

    # ---- E1 ------------------------------------------------------------------------------------------
    e1 = None
    if "E1" in forms:
        frame = build_enterprise_monthly(config, population, upper, totals)
        frame = frame.sort_values(["_ent", "period"], kind="stable").reset_index(drop=True)
        frame["_folder"] = frame["period"]
        frame["_file"] = frame["prefecture_code"]
        frame["_order"] = _order(frame)
        e1 = Delivery("E1", frame)
        plant_e1(config, e1, accepted, set(ents["uscc"]))
        e1.finish()

    # ---- R1 ------------------------------------------------------------------------------------------
    r1 = None
    if "R1" in forms:
        parts = []
        for s, period in enumerate(population.snapshots):
            rows = population.register_rows(s)
            rows["_folder"] = period
            rows["_reporting"] = population.state[rows["_ent"].to_numpy(), s] == OPERATING
            parts.append(rows)
        frame = pd.concat(parts, ignore_index=True)
        frame["_file"] = PROVINCE_CODE
        frame["_order"] = _order(frame)
        r1 = Delivery("R1", frame)
        plant_r1(config, r1, frame["_reporting"].to_numpy())
        r1.finish()

    # ---- A1, Q1, G1 (their own random streams: the files above do not change) -----------------------
    pref_codes = [p.code for p in prefectures()]
    december_years = [int(p[:4]) for p in periods if p.endswith("-12")]
    taken = set(ents["uscc"])
    annual: dict[str, tuple[Delivery, list[tuple[str, str]]]] = {}
    if "A1" in forms:
        frame = build_a1(config, population, december_years)
        if not frame.empty:
            frame["_order"] = frame["uscc"].rank(method="dense").to_numpy(dtype=float)
            a1 = Delivery("A1", frame)
            plant_a1(config, a1, outsider_usccs(config, "A1", len(RULE_IDS["A1"]) + 8, taken))
            a1.finish()
            # a prefecture with no reporting enterprise sends no file
            annual["A1"] = (a1, sorted(set(zip(a1.frame["_folder"], a1.frame["_file"]))))
    if "Q1" in forms:
        frame = build_q1(config, population, periods)
        if not frame.empty:
            frame["_order"] = (frame["uscc"] + "|" + frame["product_code"]).rank(method="dense").to_numpy(dtype=float)
            q1 = Delivery("Q1", frame)
            plant_q1(config, q1, outsider_usccs(config, "Q1", len(RULE_IDS["Q1"]) + 8, taken))
            q1.finish()
            annual["Q1"] = (q1, sorted(set(zip(q1.frame["_folder"], q1.frame["_file"]))))
    if "G1" in forms:
        frame = build_g1(config, periods)
        if not frame.empty:
            frame["_order"] = frame["_item"].to_numpy(dtype=float)
            g1 = Delivery("G1", frame)
            plant_g1(config, g1)
            g1.finish()
            annual["G1"] = (g1, [(period, PROVINCE_CODE) for period in g1_snapshots(periods)])

    # ---- files ---------------------------------------------------------------------------------------
    written: list[tuple[Delivery | None, WrittenFile]] = []
    for code, delivery in (("R1", r1), ("E1", e1), ("P1", p1), *((c, annual[c][0]) for c in annual)):
        if delivery is None:
            continue
        f = delivery.frame
        groups = {key: g for key, g in f.groupby(["_folder", "_file"], sort=True)}
        if code == "R1":
            keys = [(period, PROVINCE_CODE) for period in population.snapshots]
        elif code in annual:
            keys = annual[code][1]
        else:
            keys = [(period, pc) for period in periods for pc in pref_codes]
        for period, region in keys:
            g = groups.get((period, region), f.iloc[0:0])
            g = g.sort_values("_order", kind="stable")
            written.append((delivery, write_file(config, landing, code, period, region, g, delivery.raw)))
    if "S1" in forms:
        s1 = supervisors(config)
        written.append((None, write_file(config, landing, "S1", periods[0], PROVINCE_CODE, s1, {})))

    # ---- ground truth --------------------------------------------------------------------------------
    defect_rows, file_rows = [], []
    for delivery, wf in written:
        row_of = {idx: k + 2 for k, idx in enumerate(wf.order)}
        hard_idx: set[int] = set()
        soft_idx: set[int] = set()
        if delivery is not None:
            record_keys = form_of(delivery.form).record_keys(delivery.frame)
            for d in delivery.defects:
                idx = int(d["_idx"])
                if idx not in row_of:
                    continue
                rule = str(d["rule_id"])
                severity = SEVERITY[rule[3]]
                (hard_idx if severity == "hard" else soft_idx).add(idx)
                defect_rows.append(
                    {
                        "form": wf.form,
                        "period": wf.period,
                        "file_name": wf.file_name,
                        "source_row": row_of[idx],
                        "record_key": record_keys.at[idx],
                        "rule_id": rule,
                        "severity": severity,
                        "field": d["field"],
                        "description": d["description"],
                    }
                )
        file_rows.append(
            {
                "form": wf.form,
                "period": wf.period,
                "file_name": wf.file_name,
                "format": wf.format,
                "header_style": wf.header_style,
                "rows": len(wf.order),
                "rows_hard": len(hard_idx),
                "rows_soft_only": len(soft_idx - hard_idx),
            }
        )
    defects = pd.DataFrame(
        defect_rows,
        columns=[
            "form",
            "period",
            "file_name",
            "source_row",
            "record_key",
            "rule_id",
            "severity",
            "field",
            "description",
        ],
    )
    defects = defects.sort_values(["form", "period", "file_name", "source_row", "rule_id"], kind="stable")
    files = pd.DataFrame(file_rows).sort_values(["form", "period", "file_name"], kind="stable")
    write_csv(truth_dir / "defects.csv", defects)
    write_csv(truth_dir / "files.csv", files)

    lights = pd.DataFrame(columns=["project_code", "period", "light", "reasons", "escalated", "key_project"])
    if p1 is not None:
        lights = compute_lights(p1.frame, p1.hard_rows(), projects, periods)
        write_csv(truth_dir / "lights.csv", lights)
        planted = pd.DataFrame(
            [
                {
                    "project_code": p.code,
                    "kind": p.plant,
                    "event_period": f"{p.event // 12:04d}-{p.event % 12 + 1:02d}",
                    "key_project": p.key_project,
                }
                for p in projects
                if p.plant
            ],
            columns=["project_code", "kind", "event_period", "key_project"],
        )
        write_csv(truth_dir / "planted.csv", planted.sort_values("project_code"))
        write_csv(
            truth_dir / "unregistered_units.csv",
            pd.DataFrame({"project_code": sorted(projects[k].code for k in unregistered)}),
        )

    rows_by_form: dict[str, int] = {}
    per_period: dict[str, dict[str, int]] = {}
    for _, wf in written:
        rows_by_form[wf.form] = rows_by_form.get(wf.form, 0) + len(wf.order)
        per_period.setdefault(wf.form, {})
        per_period[wf.form][wf.period] = per_period[wf.form].get(wf.period, 0) + len(wf.order)
    # A1-S02 compares with the year before: it needs two A1 years in the window
    unplantable = {"A1-S02"} if len(december_years) < 2 else set()
    defect_counts = {form: int((defects["form"] == form).sum()) for form in sorted(set(defects["form"]))}
    light_counts = {k: int(v) for k, v in lights["light"].value_counts().sort_index().items()}
    summary_json = {
        "config": config.as_dict(),
        "files": len(written),
        "rows": rows_by_form,
        "rows_per_period": per_period,
        "defects": defect_counts,
        "defects_per_rule": {k: int(v) for k, v in defects["rule_id"].value_counts().sort_index().items()},
        "rule_ids_missing": sorted(
            {r for f in forms if f in RULE_IDS for r in RULE_IDS[f]} - set(defects["rule_id"]) - unplantable
        )
        if config.defect_rate > 0
        else [],
        "lights": light_counts,
        "register_snapshots": population.snapshots if "R1" in forms else [],
        "forms": {code: form_of(code).name for code in sorted(forms)},
    }
    truth_dir.mkdir(parents=True, exist_ok=True)
    (truth_dir / "summary.json").write_text(
        json.dumps(summary_json, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    return GenerationSummary(
        out_dir=out_dir,
        landing_dir=landing,
        ground_truth_dir=truth_dir,
        files=len(written),
        rows=rows_by_form,
        defects=defect_counts,
        lights=light_counts,
        seconds=round(time.perf_counter() - started, 3),
    )
