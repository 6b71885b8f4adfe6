-- The one rollup of the indicator system (汇总): the unit rows a family query wrote for a run and a
-- measure period (wrk_indicator_unit, level 'unit': one enterprise, project or expected reporter)
-- summed to the province, each prefecture and each sector group; rows a family aggregated itself
-- (zones, chains and their province counts) pass through. Every additive column is a plain sum, so the
-- province is the sum of its units by construction. Parameters: run_period, measure_period,
-- province_code.
insert into wrk_indicator_measure (
    run_period, measure_period, indicator_code, level, area_code, value_rule, numerator, denominator,
    numerator_comparable, denominator_comparable, numerator_last_year, denominator_last_year, reporters
)
with run_units as (
    select *
    from wrk_indicator_unit
    where run_period = :run_period and measure_period = :measure_period
),
placed as (
    select u.*, 'province' as rollup_level, :province_code as rollup_area
    from run_units as u
    where u.level = 'unit'
    union all
    select u.*, 'prefecture', u.prefecture_code
    from run_units as u
    where u.level = 'unit' and u.prefecture_code is not null
    union all
    select u.*, 'sector_group', u.sector_group
    from run_units as u
    where u.level = 'unit' and u.sector_group is not null
)
select run_period, measure_period, indicator_code, rollup_level, rollup_area, value_rule,
       sum(numerator), sum(denominator), sum(numerator_comparable), sum(denominator_comparable),
       sum(numerator_last_year), sum(denominator_last_year), sum(reporters)
from placed
group by run_period, measure_period, indicator_code, rollup_level, rollup_area, value_rule
union all
select run_period, measure_period, indicator_code, level, area_code, value_rule,
       numerator, denominator, numerator_comparable, denominator_comparable,
       numerator_last_year, denominator_last_year, reporters
from run_units
where level <> 'unit'
