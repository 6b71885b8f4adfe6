-- One family's rows into the scratch table wrk_indicator_unit, its unit rows (level 'unit': one
-- enterprise, project or expected reporter each, or units a family summed itself, as e1_ratios.sql
-- does, with reporters saying how many) already summed into cells: one row per indicator,
-- value rule, prefecture and sector group, the grouping the rollup (rollup.sql) sums from. A national
-- month's 5.4 million unit rows become a few thousand, so they are neither written to the scratch
-- table, read back by the rollup, nor deleted at the end of the run (docs/performance.md).
-- The family's query is the common table expression family_units, which the code puts before this
-- statement (techreform.indicators.compute.collect_measures); parameters: run_period, measure_period
-- and the family's own. Every family query returns the columns this statement reads: indicator_code,
-- level, area_code, prefecture_code, sector_group, value_rule, the six amounts and reporters.
-- Amounts are added as numeric, as the rollup adds them (an exact sum on PostgreSQL, the same whatever
-- order the plan reads the rows in). Rows of an area the family aggregated itself (levels zone and chain:
-- one row per area) pass through with their values unchanged (max over their one row).
insert into wrk_indicator_unit (
    run_period, measure_period, indicator_code, level, area_code, prefecture_code, sector_group, value_rule,
    numerator, denominator, numerator_comparable, denominator_comparable, numerator_last_year,
    denominator_last_year, reporters
)
select :run_period, :measure_period, indicator_code, level, area_code, prefecture_code, sector_group, value_rule,
       case when level = 'unit' then cast(sum(cast(numerator as numeric)) as double precision)
            else max(numerator) end,
       case when level = 'unit' then cast(sum(cast(denominator as numeric)) as double precision)
            else max(denominator) end,
       case when level = 'unit' then cast(sum(cast(numerator_comparable as numeric)) as double precision)
            else max(numerator_comparable) end,
       case when level = 'unit' then cast(sum(cast(denominator_comparable as numeric)) as double precision)
            else max(denominator_comparable) end,
       case when level = 'unit' then cast(sum(cast(numerator_last_year as numeric)) as double precision)
            else max(numerator_last_year) end,
       case when level = 'unit' then cast(sum(cast(denominator_last_year as numeric)) as double precision)
            else max(denominator_last_year) end,
       case when level = 'unit' then sum(reporters) else max(reporters) end
from family_units
group by indicator_code, level, area_code, prefecture_code, sector_group, value_rule
