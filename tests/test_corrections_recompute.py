"""Corrections recompute by themselves: a late A1 (last year's, arriving in May) and a corrected E1
December recompute every computed period that depends on them, through the step of the chain
(``recompute_corrected_periods``), on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from landing_files import e1_row, write_delivery
from techreform.forms import ENTERPRISE_ANNUAL as A1
from techreform.forms import ENTERPRISE_MONTHLY as E1
from techreform.periods import Period
from techreform.pipeline import prepare_warehouse, process_form
from techreform.steps import STEPS_BY_NAME, RunContext
from test_annual_registry_forms import E, _register, a1_row


@pytest.fixture
def engine(settings):
    return prepare_warehouse(settings)


def _run(engine, settings, period: str, forms: tuple[str, ...]) -> dict:
    """The chain's parts that matter here: ingest and load, compute, then the recompute step."""
    p = Period.parse(period)
    for code in forms:
        process_form(engine, settings, code, p)
    ctx = RunContext(settings, engine, p, owner="test")
    STEPS_BY_NAME["compute_indicators"].run(ctx)
    return STEPS_BY_NAME["recompute_corrected_periods"].run(ctx)


def _value(engine, period: str, code: str):
    with engine.connect() as conn:
        return conn.execute(
            sa.text(
                "select value, data_period from fct_indicator where period = :p and indicator_code = :c "
                "and level = 'province'"
            ),
            {"p": period, "c": code},
        ).one()


def test_a_late_a1_recomputes_every_computed_period_from_its_december(settings, engine):
    _register(settings, "2012-01")
    write_delivery(settings.landing_dir, A1, "2012-12", "A1_2012.csv", [a1_row(u, 企业技术中心级别="市级") for u in E])
    first = _run(engine, settings, "2012-12", ("R1", "A1"))
    assert first["recomputed"] == []  # nothing later was computed yet
    for period in ("2013-12", "2014-03"):
        assert _run(engine, settings, period, ("R1", "A1"))["recomputed"] == []
    assert tuple(_value(engine, "2014-03", "TECH_CENTERS_PROV")) == (0, "2012-12")

    # the A1 of 2013 arrives in May 2014, in its folder 2013-12
    write_delivery(settings.landing_dir, A1, "2013-12", "A1_2013.csv", [a1_row(u, 企业技术中心级别="省级") for u in E])
    late = _run(engine, settings, "2014-05", ("R1", "A1"))
    assert late["corrected"] == ["A1 2013-12"]
    assert late["recomputed"] == ["2013-12", "2014-03"]  # 2012-12 does not depend on it; 2014-05 is the run's
    for period in ("2013-12", "2014-03", "2014-05"):
        assert tuple(_value(engine, period, "TECH_CENTERS_PROV")) == (len(E), "2013-12")
    assert tuple(_value(engine, "2012-12", "TECH_CENTERS_PROV")) == (0, "2012-12")
    # a rerun finds nothing new
    assert _run(engine, settings, "2014-05", ("R1", "A1"))["recomputed"] == []


def test_a_corrected_e1_december_recomputes_the_later_periods(settings, engine):
    _register(settings, "2013-01")
    write_delivery(settings.landing_dir, E1, "2013-12", "E1_620100_2013-12.csv", [e1_row(E[0], "2013-12")])
    write_delivery(
        settings.landing_dir, E1, "2014-02", "E1_620100_2014-02.csv", [e1_row(E[0], "2014-02", 技术改造投资完成额="10")]
    )
    for period in ("2013-12", "2014-01", "2014-02"):
        _run(engine, settings, period, ("R1", "E1"))
    assert _value(engine, "2014-02", "TR_INV_CUM").value == pytest.approx((80 + 10) / 10000)

    # a corrected December lands in its folder and its period is run again (a backfill of 2013-12)
    write_delivery(
        settings.landing_dir,
        E1,
        "2013-12",
        "E1_620100_2013-12_fix.csv",
        [e1_row(E[0], "2013-12", 技术改造投资完成额="800")],
    )
    result = _run(engine, settings, "2013-12", ("R1", "E1"))
    assert result["corrected"] == ["E1 2013-12"]
    assert result["recomputed"] == ["2014-01", "2014-02"]
    assert _value(engine, "2013-12", "TR_INV_CUM").value == pytest.approx(800 / 10000)
    assert _value(engine, "2014-01", "TR_INV_CUM").value == pytest.approx(800 / 10000)
    assert _value(engine, "2014-02", "TR_INV_CUM").value == pytest.approx((800 + 10) / 10000)


def test_a_file_ingested_ahead_of_its_load_is_applied_only_once_loaded(settings, engine):
    """The instant review (techreform_delivery) ingests files before their period's load: the month's run
    of an earlier period must not record them as taken into account by the indicators."""
    from techreform.pipeline import ingest_step

    _register(settings, "2012-01")
    write_delivery(settings.landing_dir, A1, "2012-12", "A1_2012.csv", [a1_row(u, 企业技术中心级别="市级") for u in E])
    write_delivery(settings.landing_dir, A1, "2013-12", "A1_2013.csv", [a1_row(u, 企业技术中心级别="省级") for u in E])
    ingest_step(engine, settings, "A1", Period(2013, 12))  # staged ahead, as a delivery review does

    def applied() -> set[str]:
        with engine.connect() as conn:
            return {r.period for r in conn.execute(sa.text("select period from ops_indicator_file where form = 'A1'"))}

    _run(engine, settings, "2012-12", ("R1", "A1"))
    assert applied() == {"2012-12"}  # 2013-12 is staged, in no fact yet
    _run(engine, settings, "2013-12", ("R1", "A1"))
    assert applied() == {"2012-12", "2013-12"}
    assert tuple(_value(engine, "2013-12", "TECH_CENTERS_PROV")) == (len(E), "2013-12")
