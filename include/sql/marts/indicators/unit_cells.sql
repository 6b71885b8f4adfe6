-- One family's rows as cells for the scratch table wrk_indicator_unit: its unit rows (level 'unit': one
-- enterprise, project or expected reporter each, or units a family summed itself, as e1_ratios.sql
-- does, with reporters saying how many) summed into one row per indicator, value rule, prefecture and
-- sector group, the grouping the rollup (rollup.sql) sums from. A national month's 5.4 million unit rows
-- become a few thousand, so they are neither written to the scratch table, read back by the rollup, nor
-- deleted at the end of the run (docs/performance.md). The families are read side by side, each on its
-- own connection, and their cells written to the scratch table in the run's transaction
-- (techreform.indicators.compute.family_cells, collect_measures).
-- The family's query is the common table expression family_units, which the code puts before this
-- statement; parameters: the family's own. Every family query returns the columns this statement reads:
-- indicator_code, level, area_code, prefecture_code, sector_group, value_rule, the six amounts and
-- reporters.
-- Amounts are added as numeric, as the rollup adds them (an exact sum on PostgreSQL, the same whatever
-- order the plan reads the rows in). Rows of an area the family aggregated itself (levels zone and chain:
-- one row per area) pass through with their values unchanged (max over their one row).
select indicator_code, level, area_code, prefecture_code, sector_group, value_rule,
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
