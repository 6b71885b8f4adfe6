"""The indicator catalogue (指标目录) as data, with the deployment's target overrides.

Two files define every indicator: ``reference/indicators.csv`` (the spec's catalogue: names, unit,
formula, target kind and value, policy clause) and ``indicators/computation.csv`` next to this module
(how the warehouse computes it: SQL family, levels, target levels, path to the target, scale, whether
it is a headline). :func:`load_catalogue` joins them and applies the ``indicators`` options
(:class:`techreform.options.IndicatorsOptions`, listed in ``docs/configuration.md``):

```json
{"indicators": {
    "targets": {"RD_INTENSITY": 1.5, "VA_RATE": {"kind": "change_pp_vs_2010_at_least", "value": 3}},
    "energy_intensity_target": -16,
    "about_tolerance": 0.1,
    "revenue_threshold_yi": 1000,
    "headline": ["TR_INV_CUM", "VA_RATE"]
}}
```

Target kinds and indicator codes are checked here, against the catalogue.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Connection

from techreform.config import REFERENCE_DIR, Settings
from techreform.options import IndicatorsOptions, TargetOverride
from techreform.warehouse import delete_where, insert_rows

HERE = Path(__file__).resolve().parent
CATALOGUE_FILE = REFERENCE_DIR / "indicators.csv"
COMPUTATION_FILE = HERE / "computation.csv"
ZONES_FILE = HERE / "zones.csv"

LEVELS = ("province", "prefecture", "sector_group", "zone", "chain")
PATHS = ("linear", "cumulative", "constant")


@dataclass(frozen=True)
class TargetRule:
    """What a target kind means: which way is better, what the value is relative to, strictness."""

    direction: str | None  # up | down | None (no target)
    basis: str | None  # absolute | pp_vs_2010 | pct_vs_2010
    strict: bool = False  # more_than: equality does not reach it
    about: bool = False  # 左右: reached within the tolerance


TARGET_KINDS: dict[str, TargetRule] = {
    "at_least": TargetRule("up", "absolute"),
    "more_than": TargetRule("up", "absolute", strict=True),
    "about": TargetRule("up", "absolute", about=True),
    "at_most": TargetRule("down", "absolute"),
    "change_pp_vs_2010_at_least": TargetRule("up", "pp_vs_2010"),
    "change_pp_vs_2010_at_most": TargetRule("down", "pp_vs_2010"),
    "change_pct_vs_2010_at_least": TargetRule("up", "pct_vs_2010"),
    "change_pct_vs_2010_at_most": TargetRule("down", "pct_vs_2010"),
    "assigned": TargetRule(None, None),  # needs configuration (energy_intensity_target)
    "monitor": TargetRule(None, None),
}


@dataclass(frozen=True)
class Indicator:
    """One indicator of the catalogue, as written to ``dim_indicator``."""

    code: str
    sort_order: int
    name_zh: str
    name_en: str
    unit: str
    frequency: str
    formula: str
    target_kind: str
    target_value: float | None
    target_source: str
    direction: str | None
    target_basis: str | None
    strict_target: int
    tolerance: float
    path: str
    levels: str
    target_levels: str
    scale: float
    family: str
    headline: int
    seed_clause: str
    source: str
    note: str
    requires_table: str = ""

    def row(self) -> dict[str, Any]:
        row = asdict(self)
        row.pop("requires_table")
        return row


# A field that opens with a quote closed before its end (``"十二五"技术改造投资累计``) is not valid CSV;
# its quotes are meant as text: read them as Chinese quotation marks (“十二五”技术改造投资累计).
_QUOTED_PREFIX_RE = re.compile(r'(^|,)"([^",\n]*)"([^,"\n][^,\n]*)(?=,|$)', re.MULTILINE)


def _read_csv(path: Path) -> list[dict[str, str]]:
    text = path.read_text(encoding="utf-8")
    text = _QUOTED_PREFIX_RE.sub(lambda m: f"{m.group(1)}\u201c{m.group(2)}\u201d{m.group(3)}", text)
    return list(csv.DictReader(io.StringIO(text, newline="")))


def _number(text: str | float | int | None, where: str) -> float | None:
    if text is None or (isinstance(text, str) and not text.strip()):
        return None
    try:
        return float(text)
    except (TypeError, ValueError):
        raise ValueError(f"{where}: {text!r} is not a number") from None


def _with_target(ind: Indicator, kind: str, value: float | None, source: str, tolerance: float) -> Indicator:
    if kind not in TARGET_KINDS:
        raise ValueError(f"indicator {ind.code}: unknown target kind {kind!r} (known: {', '.join(TARGET_KINDS)})")
    rule = TARGET_KINDS[kind]
    has_target = rule.direction is not None and value is not None
    return replace(
        ind,
        target_kind=kind,
        target_value=value if has_target else None,
        target_source=source,
        direction=rule.direction if has_target else None,
        target_basis=rule.basis if has_target else None,
        strict_target=int(rule.strict),
        tolerance=tolerance if rule.about else 0.0,
    )


def _override(ind: Indicator, spec: float | TargetOverride, tolerance: float) -> Indicator:
    """``ind`` with the configuration's target: a number replaces the value, an object kind and value."""
    if isinstance(spec, TargetOverride):
        return _with_target(ind, spec.kind or ind.target_kind, spec.value, "configuration", tolerance)
    return _with_target(ind, ind.target_kind, spec, "configuration", tolerance)


def _options(settings: Settings | None) -> IndicatorsOptions:
    return settings.options_for(IndicatorsOptions) if settings is not None else IndicatorsOptions()


def load_catalogue(settings: Settings | None = None) -> list[Indicator]:
    """Every indicator of the catalogue, in its order, with configuration overrides applied."""
    options = _options(settings)
    tolerance = options.about_tolerance
    computation = {r["code"]: r for r in _read_csv(COMPUTATION_FILE)}
    indicators: list[Indicator] = []
    for order, r in enumerate(_read_csv(CATALOGUE_FILE), start=1):
        code = r["code"]
        how = computation.get(code)
        if how is None:
            raise ValueError(f"{COMPUTATION_FILE.name}: indicator {code} of {CATALOGUE_FILE.name} has no row")
        for name in ("levels", "target_levels"):
            unknown = set(how[name].split(",")) - set(LEVELS)
            if unknown:
                raise ValueError(f"{COMPUTATION_FILE.name}: {code} {name} has unknown levels {sorted(unknown)}")
        if how["path"] not in PATHS:
            raise ValueError(f"{COMPUTATION_FILE.name}: {code} path {how['path']!r} is not one of {PATHS}")
        base = Indicator(
            code=code,
            sort_order=order,
            name_zh=r["name_zh"],
            name_en=r["name_en"],
            unit=r["unit"],
            frequency=r["frequency"],
            formula=r["formula"],
            target_kind=r["target_kind"],
            target_value=None,
            target_source="catalogue",
            direction=None,
            target_basis=None,
            strict_target=0,
            tolerance=0.0,
            path=how["path"],
            levels=how["levels"],
            target_levels=how["target_levels"],
            scale=float(how["scale"]),
            family=how["family"],
            headline=int(how["headline"]),
            seed_clause=r["seed_clause"],
            source=r["source"],
            note=r["note"],
            requires_table=how.get("requires_table", "") or "",
        )
        ind = _with_target(
            base, r["target_kind"], _number(r["target_value"], f"{CATALOGUE_FILE.name} {code}"), "catalogue", tolerance
        )
        indicators.append(ind)
    by_code = {i.code: i for i in indicators}
    missing = set(computation) - set(by_code)
    if missing:
        raise ValueError(f"{COMPUTATION_FILE.name}: {sorted(missing)} are not in {CATALOGUE_FILE.name}")
    energy = options.energy_intensity_target
    if energy is not None and "ENERGY_INTENSITY" in by_code:
        spec = energy if isinstance(energy, TargetOverride) else TargetOverride("change_pct_vs_2010_at_most", energy)
        by_code["ENERGY_INTENSITY"] = _override(by_code["ENERGY_INTENSITY"], spec, tolerance)
    for code, spec in options.targets.items():
        if code not in by_code:
            raise ValueError(f"indicators.targets: {code!r} is not an indicator of the catalogue")
        by_code[code] = _override(by_code[code], spec, tolerance)
    headline = options.headline
    if headline is not None:
        unknown = set(headline) - set(by_code)
        if unknown:
            raise ValueError(f"indicators.headline: {sorted(unknown)} are not indicators of the catalogue")
        by_code = {c: replace(i, headline=int(c in headline)) for c, i in by_code.items()}
    return [by_code[i.code] for i in indicators]


def revenue_threshold_yi(settings: Settings | None) -> float:
    """The 千亿元 threshold in 亿元 (configuration ``indicators.revenue_threshold_yi``, default 1000)."""
    return _options(settings).revenue_threshold_yi


def zones() -> list[dict[str, str]]:
    """The integrated industrial zones (产业集聚区): zone_code, zone_name, prefecture_code."""
    return _read_csv(ZONES_FILE)


def write_catalogue(conn: Connection, indicators: list[Indicator]) -> None:
    """Replace ``dim_indicator`` and ``dim_indicator_zone`` (idempotent; inside the caller's transaction)."""
    delete_where(conn, "dim_indicator")
    insert_rows(conn, "dim_indicator", [i.row() for i in indicators])
    delete_where(conn, "dim_indicator_zone")
    insert_rows(conn, "dim_indicator_zone", zones())
