"""Hand-written textual mutants: apply each one, run the tests that cover it, count the kills.

mutmut mutates Python only; the SQL of ``include/sql`` (and a few Python mutants that the mutation probe
of issue 16 found surviving) are mutated here by text replacement. Each mutant names a file, an exact
text that must occur there exactly once, its replacement, and the test files (or node ids) to run.
A mutant is *killed* when pytest fails (exit code 1); any other exit code (collection error, no test
ran) is reported as an error, never as a kill. The file is always restored, also on Ctrl-C.

    python scripts/sql_mutants.py                 # every mutant
    python scripts/sql_mutants.py --only load     # mutants whose id contains "load"
    python scripts/sql_mutants.py --list

Exit code 0 when every mutant is killed or declared equivalent, else 1."""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SQLITE_ONLY = ["-m", "not postgres"]


@dataclass(frozen=True)
class Mutant:
    id: str
    path: str
    old: str
    new: str
    tests: tuple[str, ...]
    pytest_args: tuple[str, ...] = tuple(SQLITE_ONLY)
    equivalent: str = ""  # why it cannot be killed, if it cannot
    group: str = field(default="")

    @property
    def module(self) -> str:
        return self.group or self.path


SUP = "tests/test_supervision_emails.py"
IND_EDGES = "tests/test_indicators_edges.py"
IND_SRC = "tests/test_indicators_sources.py"
IND_RECOMP = "tests/test_indicators_recompute.py"
MUT_IND = "tests/test_mutants_indicators.py"
MUT_ANNUAL = "tests/test_mutants_indicators_annual.py"
A1_SQL = "include/sql/marts/indicators/a1_annual.sql"
Q1_SQL = "include/sql/marts/indicators/q1_structure.sql"
G1_SQL = "include/sql/marts/indicators/g1_registry.sql"
SOURCE_SQL = "include/sql/ddl/072_source_period.sql"
MUT_SUP = "tests/test_mutants_supervision.py"
MUT_LOAD = "tests/test_mutants_load.py"
LOAD = "tests/test_load.py"
VAL_RULES = "tests/test_validation_rules.py"
MUT_HB = "tests/test_mutants_hb.py"
SUP_CASES = "tests/test_supervision_cases.py"
MUT_COMPLETENESS = "tests/test_mutants_completeness.py"

MUTANTS: list[Mutant] = [
    # --- include/sql/indicators -------------------------------------------------------------------
    Mutant(
        "ind-ratios-comparable-den",
        "include/sql/marts/indicators/e1_ratios.sql",
        "and ly_value_added is not null and ly_gross_output is not null then 1 end as va_rate_c,",
        "and ly_value_added is not null then 1 end as va_rate_c,",
        (MUT_IND, IND_EDGES),
    ),
    Mutant(
        "ind-ratios-comparable-num",
        "include/sql/marts/indicators/e1_ratios.sql",
        "and ly_value_added is not null and ly_gross_output is not null then 1 end as va_rate_c,",
        "and ly_gross_output is not null then 1 end as va_rate_c,",
        (MUT_IND, IND_EDGES),
    ),
    Mutant(
        "ind-thresholds-reporters-last-year",
        "include/sql/marts/indicators/e1_revenue_thresholds.sql",
        "sum(case when last_year = 0 then reporters else 0 end) as reporters\nfrom cells\ngroup by",
        "sum(reporters) as reporters\nfrom cells\ngroup by",
        (MUT_IND, IND_EDGES, IND_RECOMP),
    ),
    Mutant(
        "ind-thresholds-cells",
        "include/sql/marts/indicators/e1_revenue_thresholds.sql",
        "group by prefecture_code, sector_group\nunion all",
        "group by prefecture_code\nunion all",
        (MUT_IND, IND_EDGES, IND_RECOMP),
    ),
    Mutant(
        "ind-thresholds-cells-by-year",
        "include/sql/marts/indicators/e1_revenue_thresholds.sql",
        "group by last_year, prefecture_code, sector_group",
        "group by prefecture_code, sector_group",
        (MUT_IND, IND_EDGES, IND_RECOMP),
    ),
    Mutant(
        "ind-cumulative-cells",
        "include/sql/marts/indicators/e1_investment_cumulative.sql",
        "group by c.prefecture_code, i.sector_group",
        "group by c.prefecture_code",
        (MUT_IND, IND_EDGES, IND_RECOMP),
    ),
    Mutant(
        "ind-cumulative-current-reporters",
        "include/sql/marts/indicators/e1_investment_cumulative.sql",
        "sum(case when c.last_year = 0 and c.current_month = 1 then 1 else 0 end) as reporters",
        "sum(case when c.last_year = 0 then 1 else 0 end) as reporters",
        (MUT_IND, IND_EDGES, IND_RECOMP),
    ),
    Mutant(
        "ind-ratios-reporters-all",
        "include/sql/marts/indicators/e1_ratios.sql",
        "sum(case when pattern & 1 <> 0 then enterprises else 0 end) as va_rate_r,",
        "sum(enterprises) as va_rate_r,",
        (MUT_IND, IND_EDGES),
    ),
    Mutant(
        "ind-ratios-pattern-bit",
        "include/sql/marts/indicators/e1_ratios.sql",
        "+ coalesce(profit_per_100, 0) * 4 + coalesce(profit_per_100_c, 0) * 8",
        "+ coalesce(profit_per_100, 0) * 4 + coalesce(profit_per_100_c, 0) * 4",
        (MUT_IND, IND_EDGES),
    ),
    Mutant(
        "ind-ratios-empty-cells",
        "include/sql/marts/indicators/e1_ratios.sql",
        "from cells where va_rate_r > 0",
        "from cells",
        (MUT_IND, IND_EDGES),
    ),
    Mutant(
        "ind-reporting-numerator",
        "include/sql/marts/indicators/e1r1_reporting_rate.sql",
        "sum(reported) as numerator, count(*) as denominator",
        "count(*) as numerator, count(*) as denominator",
        (IND_EDGES, IND_SRC, MUT_IND),
    ),
    Mutant(
        "ind-reporting-reporters",
        "include/sql/marts/indicators/e1r1_reporting_rate.sql",
        "sum(reported) as reporters",
        "count(*) as reporters",
        (IND_EDGES, IND_SRC, MUT_IND),
    ),
    Mutant(
        "ind-register-asof",
        "include/sql/ddl/070_in_force.sql",
        "select max(s.snapshot_period) from dim_enterprise_register as s where s.snapshot_period <= m.period",
        "select min(s.snapshot_period) from dim_enterprise_register as s where s.snapshot_period <= m.period",
        (IND_SRC, MUT_IND),
    ),
    Mutant(
        "ind-ratios-labor-annualised",
        "include/sql/marts/indicators/e1_ratios.sql",
        "cast(value_added * 12.0 / :month as numeric) as x_value_added_annualised,",
        "cast(value_added as numeric) as x_value_added_annualised,",
        (IND_RECOMP, MUT_IND),
    ),
    Mutant(
        "ind-rollup-sector-null",
        "include/sql/marts/indicators/rollup.sql",
        "where sector_group is not null\ngroup by indicator_code, sector_group",
        "group by indicator_code, sector_group",
        (IND_RECOMP, MUT_IND),
    ),
    Mutant(
        "ind-rollup-province-area",
        "include/sql/marts/indicators/rollup.sql",
        "'province', :province_code,",
        "'province', '620100',",
        (IND_RECOMP, IND_EDGES),
    ),
    Mutant(
        "ind-rollup-sum",
        "include/sql/marts/indicators/rollup.sql",
        "'prefecture', prefecture_code, value_rule,\n       cast(sum(numerator) as double precision),",
        "'prefecture', prefecture_code, value_rule,\n       cast(max(numerator) as double precision),",
        (IND_RECOMP, MUT_IND),
    ),
    Mutant(
        "ind-cells-sum",
        "include/sql/marts/indicators/unit_cells.sql",
        "case when level = 'unit' then cast(sum(cast(numerator as numeric)) as double precision)",
        "case when level = 'unit' then cast(max(cast(numerator as numeric)) as double precision)",
        (IND_RECOMP, MUT_IND),
    ),
    Mutant(
        "ind-cells-group-sector",
        "include/sql/marts/indicators/unit_cells.sql",
        "group by indicator_code, level, area_code, prefecture_code, sector_group, value_rule",
        "group by indicator_code, level, area_code, prefecture_code, value_rule",
        (IND_RECOMP, MUT_IND),
    ),
    Mutant(
        "ind-cells-pass-through",
        "include/sql/marts/indicators/unit_cells.sql",
        "else max(numerator) end,",
        "else null end,",
        (IND_RECOMP, MUT_IND),
    ),
    Mutant(
        "ind-growth-inner-join",
        "include/sql/marts/indicators/e1_investment_growth.sql",
        "join last_year_facts as l on l.uscc = c.uscc",
        "left join last_year_facts as l on l.uscc = c.uscc",
        (IND_EDGES, MUT_IND),
    ),
    Mutant(
        "ind-growth-last-year-reported",
        "include/sql/marts/indicators/e1_investment_growth.sql",
        "where f.period = :period_last_year and f.techreform_investment is not null",
        "where f.period = :period_last_year",
        (IND_EDGES, MUT_IND),
    ),
    # --- the 18 indicators of A1, Q1, G1: families a1_annual, q1_structure, g1_registry, their data period ---
    Mutant(
        "ind-a1-year-before",
        A1_SQL,
        "where period = :period_last_year and source_form = 'A1')",
        "where period = :period and source_form = 'A1')",
        (MUT_ANNUAL,),
    ),
    Mutant(
        "ind-a1-provincial-levels",
        A1_SQL,
        "tech_centre_level in ('省级', '国家级')",
        "tech_centre_level = '省级'",
        (MUT_ANNUAL,),
    ),
    Mutant(
        "ind-a1-national-level",
        A1_SQL,
        "case when tech_centre_level = '国家级' then 1 else 0 end",
        "case when tech_centre_level <> '无' then 1 else 0 end",
        (MUT_ANNUAL,),
    ),
    Mutant(
        "ind-a1-digital-flag",
        A1_SQL,
        "sector_group, digital_enterprise\n",
        "sector_group, 1\n",
        (MUT_ANNUAL,),
    ),
    Mutant(
        "ind-a1-register-prefecture",
        A1_SQL,
        "coalesce(r.prefecture_code, nullif(a.prefecture_code, ''))",
        "coalesce(nullif(a.prefecture_code, ''), r.prefecture_code)",
        (MUT_ANNUAL,),
    ),
    Mutant(
        "ind-a1-register-of-december",
        A1_SQL,
        "where r.in_force_period = (select now_period from years)",
        "where r.in_force_period = :period",
        (MUT_ANNUAL,),
    ),
    Mutant(
        "ind-a1-population-operating",
        A1_SQL,
        "where r.above_scale = 1 and r.operating_status = '在营'",
        "where r.above_scale = 1",
        (MUT_ANNUAL,),
    ),
    Mutant(
        "ind-a1-population-above-scale",
        A1_SQL,
        "where r.above_scale = 1 and r.operating_status = '在营'",
        "where r.operating_status = '在营'",
        (MUT_ANNUAL,),
    ),
    Mutant(
        "ind-a1-missing-a1-not-adopting",
        A1_SQL,
        "    left join annual as a on a.uscc = r.uscc and a.last_year = r.last_year",
        "    join annual as a on a.uscc = r.uscc and a.last_year = r.last_year",
        (MUT_ANNUAL,),
    ),
    Mutant(
        "ind-a1-apc-backbone",
        A1_SQL,
        "apc_in_use, 1\n    from population where process_backbone = 1",
        "apc_in_use, 1\n    from population where key_enterprise = 1",
        (MUT_ANNUAL,),
    ),
    Mutant(
        "ind-a1-sme-scales",
        A1_SQL,
        "r.scale in ('中型', '小型', '微型')",
        "r.scale in ('中型', '小型')",
        (MUT_ANNUAL,),
    ),
    Mutant(
        "ind-a1-equipment-key-only",
        A1_SQL,
        "key_equipment_domestic_adv as num, key_equipment_total as den\n    from placed where key_enterprise = 1",
        "key_equipment_domestic_adv as num, key_equipment_total as den\n    from placed",
        (MUT_ANNUAL,),
    ),
    Mutant(
        "ind-a1-equipment-intl",
        A1_SQL,
        "           key_equipment_intl_adv, key_equipment_total",
        "           key_equipment_domestic_adv, key_equipment_total",
        (MUT_ANNUAL,),
    ),
    Mutant(
        "ind-a1-comparable",
        A1_SQL,
        "       case when num_ly is not null and den_ly is not null then num end,",
        "       num,",
        (MUT_ANNUAL,),
    ),
    Mutant(
        "ind-q1-part-zero",
        Q1_SQL,
        "coalesce(p.quantity_t, 0) as num",
        "p.quantity_t as num",
        (MUT_ANNUAL,),
    ),
    Mutant(
        "ind-q1-part-same-month",
        Q1_SQL,
        "on p.product_code = s.part and p.uscc = w.uscc and p.period = w.period",
        "on p.product_code = s.part and p.uscc = w.uscc",
        (MUT_ANNUAL,),
    ),
    Mutant(
        "ind-q1-steel-whole",
        Q1_SQL,
        "'steel_plate_strip', 'steel_products_total'",
        "'steel_plate_strip', 'cement_total'",
        (MUT_ANNUAL,),
    ),
    Mutant(
        "ind-q1-comparable",
        Q1_SQL,
        "case when den_ly is not null then num end as numerator_comparable",
        "num as numerator_comparable",
        (MUT_ANNUAL,),
    ),
    Mutant(
        "ind-q1-register-prefecture",
        Q1_SQL,
        "coalesce(r.prefecture_code, nullif(c.prefecture_code, ''))",
        "coalesce(nullif(c.prefecture_code, ''), r.prefecture_code)",
        (MUT_ANNUAL,),
    ),
    Mutant(
        "ind-g1-recognised-by-then",
        G1_SQL,
        "where g.recognised <= m.month and (g.revoked",
        "where (g.revoked",
        (MUT_ANNUAL,),
    ),
    Mutant(
        "ind-g1-revoked-in-the-month",
        G1_SQL,
        "g.revoked > m.month",
        "g.revoked >= m.month",
        (MUT_ANNUAL,),
    ),
    Mutant(
        "ind-g1-platform-levels",
        G1_SQL,
        "item_type = 'sme_platform' and level in ('省级', '国家级')",
        "item_type = 'sme_platform' and level = '国家级'",
        (MUT_ANNUAL,),
    ),
    Mutant(
        "ind-g1-incubators-from-plan-start",
        G1_SQL,
        "recognised >= :plan_start",
        "recognised > :plan_start",
        (MUT_ANNUAL,),
    ),
    Mutant(
        "ind-g1-demo-national",
        G1_SQL,
        "item_type = 'demo_base' and level = '国家级'",
        "item_type = 'demo_base'",
        (MUT_ANNUAL,),
    ),
    Mutant(
        "ind-g1-circular-enterprises",
        G1_SQL,
        "from items where item_type = 'circular_enterprise'",
        "from items where item_type = 'circular_park'",
        (MUT_ANNUAL,),
    ),
    Mutant(
        "ind-g1-zero-rows",
        G1_SQL,
        ") as c on 1 = 1",
        ") as c on 1 = 0",
        (MUT_ANNUAL,),
    ),
    Mutant(
        "ind-g1-county-sited",
        G1_SQL,
        "i.item_type = 'county_platform' and i.region_code = d.code",
        "i.item_type = 'county_platform' and i.prefecture_code = d.prefecture_code",
        (MUT_ANNUAL,),
    ),
    Mutant(
        "ind-programme-in-force-from",
        "include/sql/ddl/070_in_force.sql",
        "select max(s.snapshot_period) from dim_programme_item as s where s.snapshot_period <= m.period",
        "select max(s.snapshot_period) from dim_programme_item as s where s.snapshot_period < m.period",
        (MUT_ANNUAL, "tests/test_annual_registry_forms.py"),
    ),
    Mutant(
        "ind-divisions-valid-from",
        "include/sql/ddl/070_in_force.sql",
        "    on coalesce(d.valid_from, '') <= m.period",
        "    on 1 = 1",
        (MUT_ANNUAL,),
    ),
    Mutant(
        "ind-g1-coverage-last-year",
        G1_SQL,
        "left join counties as l on l.code = c.code and l.last_year = 1",
        "left join counties as l on l.code = c.code",
        (MUT_ANNUAL,),
    ),
    Mutant(
        "ind-source-a1-own-december",
        SOURCE_SQL,
        "from fct_enterprise_annual as a where a.period <= m.period",
        "from fct_enterprise_annual as a where a.period < m.period",
        (MUT_ANNUAL,),
    ),
    Mutant(
        "ind-source-g1-latest",
        SOURCE_SQL,
        "(select max(g.snapshot_period) from dim_programme_item",
        "(select min(g.snapshot_period) from dim_programme_item",
        (MUT_ANNUAL,),
    ),
    # --- include/sql/supervision ------------------------------------------------------------------
    Mutant(
        "sup-cancel-only-unsent",
        "include/sql/ops/supervision_email/email_log_cancel.sql",
        "  and status = 'unsent'",
        "  and status <> 'sent'",
        (MUT_SUP, SUP),
    ),
    Mutant(
        "sup-cancel-status",
        "include/sql/ops/supervision_email/email_log_cancel.sql",
        "set status = 'cancelled'",
        "set status = 'unsent'",
        (MUT_SUP,),
    ),
    Mutant(
        "sup-quarantined-superseded",
        "include/sql/intermediate/quarantined_projects.sql",
        "and q.superseded = 0",
        "and q.superseded >= 0",
        (SUP_CASES, MUT_SUP),
    ),
    Mutant(
        "sup-quarantined-empty-key",
        "include/sql/intermediate/quarantined_projects.sql",
        "and q.record_key <> ''",
        "and 1 = 1",
        (SUP_CASES, MUT_SUP),
        equivalent="sources.load_quarantined drops every row whose code does not match the project-code "
        "pattern, which the empty key never does: the SQL filter only saves reading those rows",
    ),
    Mutant(
        "sup-supervisors-in-force",
        "include/sql/ddl/070_in_force.sql",
        "select max(s.snapshot_period) from dim_supervisor as s where s.snapshot_period <= m.period",
        "select max(s.snapshot_period) from dim_supervisor as s where s.snapshot_period >= m.period",
        (MUT_SUP, SUP),
    ),
    # --- include/sql/validation -------------------------------------------------------------------
    Mutant(
        "val-previous-project-latest",
        "include/sql/intermediate/previous_project_reports.sql",
        "select f.project_code, max(f.period) as prev_period",
        "select f.project_code, min(f.period) as prev_period",
        (MUT_HB, VAL_RULES),
    ),
    Mutant(
        "val-previous-product-latest",
        "include/sql/intermediate/previous_product_reports.sql",
        "select q.uscc, q.product_code, max(q.period) as prev_period",
        "select q.uscc, q.product_code, min(q.period) as prev_period",
        (MUT_ANNUAL, "tests/test_annual_registry_forms.py", VAL_RULES),
    ),
    Mutant(
        "val-previous-same-year",
        "include/sql/intermediate/previous_enterprise_reports.sql",
        "and f.period >= :year_start",
        "",
        (MUT_HB, VAL_RULES),
    ),
    Mutant(
        "val-previous-latest",
        "include/sql/intermediate/previous_enterprise_reports.sql",
        "select f.uscc, max(f.period) as prev_period",
        "select f.uscc, min(f.period) as prev_period",
        (MUT_HB, VAL_RULES),
    ),
    Mutant(
        "val-previous-before",
        "include/sql/intermediate/previous_enterprise_reports.sql",
        "where f.period < :period",
        "where f.period <= :period",
        (MUT_HB, VAL_RULES),
    ),
    # --- completeness (报送率): who is expected, who was received, the missing reporters' entries -----------
    Mutant(
        "dq-expected-above-scale",
        "include/sql/intermediate/expected_reporters.sql",
        "and r.above_scale = 1 and",
        "and",
        (MUT_COMPLETENESS,),
    ),
    Mutant(
        "dq-received-unparsed-form",
        "include/sql/intermediate/received_reporters.sql",
        "where form = 'E1' and delivery_period",
        "where delivery_period",
        (MUT_COMPLETENESS,),
    ),
    Mutant(
        "dq-received-unparsed",
        "include/sql/intermediate/received_reporters.sql",
        "where form = 'E1' and delivery_period = :period and record_key <> ''",
        "where 1 = 0",
        (MUT_COMPLETENESS,),
    ),
    Mutant(
        "dq-missing-entry-in-force",
        "include/sql/intermediate/registered_enterprises.sql",
        "where r.in_force_period = :period and",
        "where r.in_force_period >= :period and",
        (MUT_COMPLETENESS,),
    ),
    Mutant(
        "dq-missing-entry-county",
        "include/sql/intermediate/registered_enterprises.sql",
        "left join dim_division as c on c.code = r.region_code",
        "left join dim_division as c on c.code = r.prefecture_code",
        (MUT_COMPLETENESS,),
    ),
    # --- include/techreform (mutants of the issue-16 probe that survived) -----------------------------
    Mutant(
        "py-codes-nan",
        "include/techreform/codes.py",
        "if code is None or (isinstance(code, float) and code != code):",
        "if code is None:",
        ("tests/test_mutants_codes_cells.py",),
        (),
    ),
    Mutant(
        "py-codes-illegal-18",
        "include/techreform/codes.py",
        "bad = sorted({ch for ch in text if ch not in _VALUES})",
        "bad = sorted({ch for ch in text[:17] if ch not in _VALUES})",
        ("tests/test_mutants_codes_cells.py",),
        (),
    ),
    Mutant(
        "py-codes-swap-wx",
        "include/techreform/codes.py",
        'USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"',
        'USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUXWY"',
        ("tests/test_mutants_codes_cells.py",),
        (),
    ),
    Mutant(
        "py-cells-space-separator",
        "include/techreform/cells.py",
        'compact = text.replace(" ", "")',
        "compact = text",
        ("tests/test_mutants_codes_cells.py",),
        (),
    ),
    Mutant(
        "py-cells-nan-number",
        "include/techreform/cells.py",
        "        if math.isnan(value):",
        "        if False:",
        ("tests/test_mutants_codes_cells.py",),
        (),
    ),
    Mutant(
        "py-rules-prefecture-from-region",
        "include/techreform/supervision/rules.py",
        'if not out["prefecture_code"]:\n        out["prefecture_code"] = prefecture_of(',
        'if False:\n        out["prefecture_code"] = prefecture_of(',
        (MUT_SUP,),
        (),
    ),
    Mutant(
        "py-rules-key-from-accepted",
        "include/techreform/supervision/rules.py",
        'info["key_project"] = _info(latest_accepted, None)["key_project"]',
        "pass",
        (MUT_SUP,),
        (),
    ),
    Mutant(
        "py-derive-reference-zero",
        "include/techreform/validation/hb.py",
        "return x.notna() & y.notna() & (x > 0) & (y > 0)",
        "return x.notna() & y.notna() & (x >= 0) & (y > 0)",
        (MUT_HB, "tests/test_validation_hb.py"),
        (),
    ),
    Mutant(
        "py-derive-months-between",
        "include/techreform/validation/derive.py",
        "increment = (frame[name] - prev) / (current_month - prev_month)",
        "increment = frame[name] - prev",
        (MUT_HB,),
        (),
    ),
    Mutant(
        "py-derive-fit-on-latest",
        "include/techreform/validation/derive.py",
        "fence = hb.fit(reference[keep], increment[keep],",
        "fence = hb.fit(reference, increment,",
        (MUT_HB,),
        (),
    ),
    Mutant(
        "py-derive-reference-per-month",
        "include/techreform/validation/derive.py",
        "reference = prev / prev_month",
        "reference = prev / current_month",
        (MUT_HB,),
        (),
    ),
    Mutant(
        "load-facts-superseded",
        "include/sql/ops/load/current_facts.sql",
        "and o.outcome = 'accepted' and o.superseded = 0",
        "and o.outcome = 'accepted'",
        (MUT_LOAD,),
    ),
    Mutant(
        "load-facts-quarantined",
        "include/sql/ops/load/current_facts.sql",
        "and o.outcome = 'accepted' and o.superseded = 0",
        "and o.superseded = 0",
        (MUT_LOAD,),
    ),
    Mutant(
        "load-facts-soft-rules",
        "include/sql/ops/load/current_facts.sql",
        "o.rule_ids as soft_rule_ids",
        "'' as soft_rule_ids",
        (MUT_LOAD,),
    ),
    Mutant(
        "load-facts-review-status",
        "include/sql/ops/load/current_facts.sql",
        "o.review_status,",
        "'ok' as review_status,",
        (MUT_LOAD,),
    ),
    Mutant(
        "load-whole-numbers-half-even",
        "include/sql/ops/load/whole_number_facts.sql",
        "({{ column }} - cast({{ column }} as bigint) = 0.5 and cast({{ column }} as bigint) % 2 <> 0)",
        "({{ column }} - cast({{ column }} as bigint) = 0.5)",
        (MUT_LOAD,),
    ),
    Mutant(
        "load-whole-numbers-only-fractions",
        "include/sql/ops/load/whole_number_facts.sql",
        "where {{ period_column }} = :period\n",
        "where 1 = 1\n",
        (MUT_LOAD,),
        equivalent="the rows of other periods were rounded when they were loaded: none has a fraction left",
    ),
    Mutant(
        "load-whole-numbers-past-2-52",
        "include/sql/ops/load/whole_number_facts.sql",
        "    and abs({{ column }}) < 4503599627370496\n",
        "",
        (MUT_LOAD,),
    ),
    Mutant(
        "py-load-empty-key-superseded",
        "include/techreform/load.py",
        'latest = rows[rows["record_key"] != ""].groupby',
        "latest = rows.groupby",
        (MUT_LOAD,),
        (),
    ),
    Mutant(
        "py-load-quarantined-status",
        "include/techreform/load.py",
        'rows.loc[quarantined, "review_status"] = "quarantined"',
        "pass",
        (MUT_LOAD,),
        (),
    ),
    Mutant(
        "py-load-summary-current",
        "include/techreform/load.py",
        'current = rows[(rows["outcome"] == "accepted") & (rows["superseded"] == 0)]\n    return LoadSummary(',
        'current = rows[(rows["outcome"] == "accepted")]\n    return LoadSummary(',
        (MUT_LOAD,),
        (),
    ),
    Mutant(
        "py-notify-case-insensitive",
        "include/techreform/supervision/notify.py",
        "deliveries.setdefault((email.lower(), content.kind, region)",
        "deliveries.setdefault((email, content.kind, region)",
        (MUT_SUP,),
        (),
    ),
    Mutant(
        "py-notify-cancel-reverted",
        "include/techreform/supervision/notify.py",
        "delivery_log.cancel_unsent(conn, key)",
        "pass",
        (MUT_SUP,),
        (),
    ),
]


def run(mutant: Mutant, python: str, verbose: bool) -> str:
    path = ROOT / mutant.path
    original = path.read_text(encoding="utf-8")
    if original.count(mutant.old) != 1:
        return f"stale ({original.count(mutant.old)} matches)"
    try:
        path.write_text(original.replace(mutant.old, mutant.new), encoding="utf-8")
        command = [python, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *mutant.pytest_args, *mutant.tests]
        done = subprocess.run(command, cwd=ROOT, capture_output=not verbose, text=True)
    finally:
        path.write_text(original, encoding="utf-8")
    return {0: "survived", 1: "killed"}.get(done.returncode, f"error (pytest exit {done.returncode})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="run the mutants whose id contains this text")
    parser.add_argument("--list", action="store_true")
    parser.add_argument("--verbose", action="store_true", help="show pytest's output")
    args = parser.parse_args(argv)
    chosen = [m for m in MUTANTS if args.only in m.id]
    if args.list:
        for m in chosen:
            print(f"{m.id:36} {m.path}")
        return 0
    results: dict[str, str] = {}
    by_file: dict[str, Counter] = {}
    for m in chosen:
        started = time.monotonic()
        outcome = "equivalent" if m.equivalent else run(m, sys.executable, args.verbose)
        results[m.id] = outcome
        by_file.setdefault(m.path, Counter())[outcome.split(" ")[0]] += 1
        print(f"{m.id:36} {outcome:14} {time.monotonic() - started:6.1f}s  {m.path}", flush=True)
    print()
    print(f"{'file':60} killed / non-equivalent")
    for path, counts in sorted(by_file.items()):
        total = sum(counts.values()) - counts["equivalent"]
        print(f"{path:60} {counts['killed']} / {total}")
    killed = sum(c["killed"] for c in by_file.values())
    total = sum(sum(c.values()) - c["equivalent"] for c in by_file.values())
    print(f"{'all':60} {killed} / {total} = {100 * killed / max(total, 1):.0f} %")
    return 0 if killed == total else 1


if __name__ == "__main__":
    sys.exit(main())
