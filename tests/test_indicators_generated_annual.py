"""The 18 indicators of A1, Q1 and G1 on a generated province, through the real chain (ingest, GX
validation, load, compute) on SQLite and PostgreSQL, against the same indicators recomputed here in pandas
from the generated files: rows read with the pipeline's readers, rows the ground truth marks hard left
out, the latest row per key kept (what the load accepts)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from techreform.config import Settings
from techreform.forms import form
from techreform.generator import GeneratorConfig, generate
from techreform.indicators import compute_indicators
from techreform.ingest import parse_table
from techreform.periods import Period
from techreform.pipeline import prepare_warehouse, process_form
from techreform.readers import read_delivery
from techreform.reference import counties

pytestmark = pytest.mark.slow  # generation and four months of GX validation: about 2 minutes per database

FIRST, LAST = "2012-11", "2014-12"
PERIOD = "2014-12"
CONFIG = GeneratorConfig(
    enterprises=300, projects=10, first_period=FIRST, last_period=LAST, forms=("R1", "A1", "Q1", "G1")
)


@pytest.fixture(scope="module")
def province(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("province_annual")
    generate(out, CONFIG)
    return out


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def computed(request, province, tmp_path_factory, pg_available) -> pd.DataFrame:
    from validation_fixtures import fresh_database

    tmp = tmp_path_factory.mktemp("annual")
    with fresh_database(request.param, tmp, pg_available) as url:
        settings = Settings.from_env(
            {
                "TECHREFORM_DATA_DIR": str(tmp / "data"),
                "TECHREFORM_WAREHOUSE_URL": url,
                "TECHREFORM_LANDING_DIR": str(province / "landing"),
            }
        ).with_options(validation={"data_docs": False})
        engine = prepare_warehouse(settings)
        for period in ("2013-11", "2013-12", "2014-11", PERIOD):
            for code in ("R1", "G1", "Q1", "A1"):
                process_form(engine, settings, code, Period.parse(period))
        for period in ("2013-12", PERIOD):
            compute_indicators(engine, settings, period)
        with engine.connect() as conn:
            yield pd.read_sql(
                sa.text(
                    "select indicator_code, level, area_code, value, value_same_period_last_year, numerator, "
                    "denominator, status, data_period from fct_indicator where period = :p"
                ),
                conn,
                params={"p": PERIOD},
            )


def _accepted(root: Path, code: str) -> pd.DataFrame:
    """Rows of every file of ``code`` that the load accepts, with their folder's period."""
    defects = pd.read_csv(root / "ground_truth" / "defects.csv", dtype=str)
    hard = {
        (f, int(r)) for f, r in defects[defects.severity == "hard"][["file_name", "source_row"]].itertuples(index=False)
    }
    frames = []
    for path in sorted((root / "landing" / form(code).name).glob("*/*.*")):
        parsed = parse_table(form(code), read_delivery(path), path.parent.name)
        rows = [r for r in parsed.staged if (path.name, r["source_row"]) not in hard]
        frames.append(pd.DataFrame(rows).assign(folder=path.parent.name))
    return pd.concat(frames, ignore_index=True)


@pytest.fixture(scope="module")
def expected(province) -> dict[str, tuple[float | None, float | None]]:
    """Province value and same period last year of each indicator, recomputed from the files."""
    r1 = _accepted(province, "R1")
    a1 = _accepted(province, "A1").drop_duplicates(["folder", "uscc"], keep="last")
    q1 = _accepted(province, "Q1").drop_duplicates(["folder", "uscc", "product_code"], keep="last")
    g1 = _accepted(province, "G1").drop_duplicates(["folder", "item_type", "item_id"], keep="last")

    def register(month: str) -> pd.DataFrame:
        snapshot = max(s for s in r1["folder"].unique() if s <= month)
        return r1[r1["folder"] == snapshot].drop_duplicates("uscc", keep="last").set_index("uscc")

    def a1_values(year: int) -> dict[str, float | None]:
        rows = a1[a1["folder"] == f"{year}-12"]
        reg = register(f"{year}-12")
        flags = reg.reindex(rows["uscc"])
        key = flags["key_enterprise"].fillna(0).to_numpy() == 1

        owing = reg[(reg["above_scale"] == 1) & (reg["operating_status"] == "在营")].assign(
            sme=lambda r: r["scale"].isin(["中型", "小型", "微型"]).astype(int)
        )
        filed = rows.drop_duplicates("uscc", keep="last").set_index("uscc")

        def adoption(flag: str, population: str) -> float | None:
            members = owing[owing[population].fillna(0) == 1].index
            adopting = filed[flag].reindex(members).fillna(0).astype(float).sum()
            return 100.0 * adopting / len(members) if len(members) else None

        def share(num, mask, den=None):
            d = den[mask].sum() if den is not None else mask.sum()
            return 100.0 * num[mask].sum() / d if d else None

        return {
            "TECH_CENTERS_PROV": float(rows["tech_centre_level"].isin(["省级", "国家级"]).sum()),
            "TECH_CENTERS_NATL": float((rows["tech_centre_level"] == "国家级").sum()),
            "DIGITAL_ENTERPRISES": float(rows["digital_enterprise"].sum()),
            "EQUIP_DOMESTIC_ADV": share(
                rows["key_equipment_domestic_adv"].to_numpy(), key, rows["key_equipment_total"].to_numpy()
            ),
            "EQUIP_INTL_ADV": share(
                rows["key_equipment_intl_adv"].to_numpy(), key, rows["key_equipment_total"].to_numpy()
            ),
            # the adoption rates over the register: who owes an A1 (above scale, 在营), a missing A1 = not adopting
            "APC_ADOPTION": adoption("apc_in_use", "process_backbone"),
            "CAX_ADOPTION": adoption("cax_in_use", "key_enterprise"),
            "SME_WEBSITE_RATE": adoption("has_website", "sme"),
            "SME_ECOMMERCE_RATE": adoption("ecommerce_regular", "sme"),
        }

    def q1_values(month: str) -> dict[str, float | None]:
        rows = q1[q1["period"] == month].set_index(["uscc", "product_code"])["quantity_t"]
        out = {}
        for code, part, whole in (
            ("NONFERROUS_DEEP_SHARE", "nonferrous_deep_processed", "nonferrous_total"),
            ("STEEL_PLATE_SHARE", "steel_plate_strip", "steel_products_total"),
            ("CEMENT_DRY_SHARE", "cement_new_dry_process", "cement_total"),
        ):
            wholes = rows.xs(whole, level="product_code") if whole in rows.index.get_level_values(1) else pd.Series()
            parts = rows.xs(part, level="product_code") if part in rows.index.get_level_values(1) else pd.Series()
            num = parts.reindex(wholes.index).fillna(0).sum()
            out[code] = 100.0 * num / wholes.sum() if wholes.sum() else None
        return out

    def g1_values(month: str) -> dict[str, float | None]:
        snapshot = max(s for s in g1["folder"].unique() if s <= month)
        items = g1[(g1["folder"] == snapshot) & (g1["recognised"] <= month)]
        items = items[items["revoked"].isna() | (items["revoked"] > month)]
        county_codes = [c for c, d in counties().items() if d.valid_in(month)]
        platforms = set(items[items["item_type"] == "county_platform"]["region_code"])
        return {
            "SME_PLATFORMS_PROV": float(
                ((items.item_type == "sme_platform") & items.level.isin(["省级", "国家级"])).sum()
            ),
            "INCUBATORS_NEW": float(((items.item_type == "incubator") & (items.recognised >= "2011-01")).sum()),
            "CIRCULAR_PARKS": float((items.item_type == "circular_park").sum()),
            "CIRCULAR_ENTERPRISES": float((items.item_type == "circular_enterprise").sum()),
            "NATL_DEMO_BASES": float(((items.item_type == "demo_base") & (items.level == "国家级")).sum()),
            "SME_NETWORK_COUNTY_COVERAGE": 100.0 * sum(c in platforms for c in county_codes) / len(county_codes),
        }

    now = {**a1_values(2014), **q1_values(PERIOD), **g1_values(PERIOD)}
    last = {**a1_values(2013), **q1_values("2013-12"), **g1_values("2013-12")}
    return {code: (now[code], last[code]) for code in now}


def test_the_generated_rows_carry_every_new_indicator(expected):
    assert len(expected) == 18
    assert all(value is not None for value, _ in expected.values())


def test_every_new_indicator_equals_its_recomputation_from_the_generated_rows(computed, expected):
    province = computed[(computed.level == "province")].set_index("indicator_code")
    wrong = {}
    for code, (value, last_year) in expected.items():
        row = province.loc[code]
        if row.value != pytest.approx(value, rel=1e-9):
            wrong[code] = (row.value, value)
        counts = code.startswith(("TECH", "DIGITAL", "SME_PL", "INCUB", "CIRC", "NATL", "SME_NET"))
        if counts and row.value_same_period_last_year != pytest.approx(last_year, rel=1e-9):
            wrong[code + " last year"] = (row.value_same_period_last_year, last_year)
    assert not wrong, wrong
    assert set(province.loc[list(expected)].status) <= {"met", "on_track", "lagging", "no_target"}
    a1_codes = [c for c in expected if c.startswith(("TECH", "EQUIP", "APC", "CAX", "SME_WEB", "SME_ECO", "DIGITAL"))]
    assert set(province.loc[a1_codes, "data_period"]) == {"2014-12"}


def test_prefectures_add_up_to_the_province_for_the_counts(computed):
    for code in ("TECH_CENTERS_PROV", "CIRCULAR_PARKS", "DIGITAL_ENTERPRISES"):
        rows = computed[computed.indicator_code == code]
        province = rows[rows.level == "province"].value.iloc[0]
        prefectures = rows[rows.level == "prefecture"].value.fillna(0).sum()
        assert prefectures == pytest.approx(province), code
