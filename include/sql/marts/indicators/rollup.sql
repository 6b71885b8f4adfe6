-- The one rollup of the indicator system (汇总): the unit rows a family query wrote for a run and a
-- measure period (wrk_indicator_unit, level 'unit': one enterprise, project or expected reporter)
-- summed to the province, each prefecture and each sector group; rows a family aggregated itself
-- (zones, chains and their province counts) pass through. Every additive column is a plain sum, so the
-- province is the sum of its units by construction. Parameters: run_period, measure_period,
-- province_code.
-- Each family's unit rows arrive already summed into cells (unit_cells.sql: by indicator, value rule,
-- prefecture and sector group; a few thousand rows for the 5.4 million unit rows of a national month);
-- they are grouped once more here (two families could write the same cell), and each level sums the
-- cells it covers (docs/performance.md). The cells are materialised (they are read three times) and small.
-- The amounts are added as numeric: on PostgreSQL an exact sum, the same whatever order the plan reads
-- the unit rows in (a float sum's last digit follows that order, and a rerun of a period must give the
-- same indicators); on SQLite numeric is a plain number and rows are read in the order written.
insert into wrk_indicator_measure (
    run_period, measure_period, indicator_code, level, area_code, value_rule, numerator, denominator,
    numerator_comparable, denominator_comparable, numerator_last_year, denominator_last_year, reporters
)
with cells as materialized (
    select indicator_code, value_rule, prefecture_code, sector_group,
           sum(cast(numerator as numeric)) as numerator,
           sum(cast(denominator as numeric)) as denominator,
           sum(cast(numerator_comparable as numeric)) as numerator_comparable,
           sum(cast(denominator_comparable as numeric)) as denominator_comparable,
           sum(cast(numerator_last_year as numeric)) as numerator_last_year,
           sum(cast(denominator_last_year as numeric)) as denominator_last_year,
           sum(reporters) as reporters
    from wrk_indicator_unit
    where run_period = :run_period and measure_period = :measure_period and level = 'unit'
    group by indicator_code, value_rule, prefecture_code, sector_group
)
select :run_period, :measure_period, indicator_code, 'province', :province_code, value_rule,
       cast(sum(numerator) as double precision),
       cast(sum(denominator) as double precision),
       cast(sum(numerator_comparable) as double precision),
       cast(sum(denominator_comparable) as double precision),
       cast(sum(numerator_last_year) as double precision),
       cast(sum(denominator_last_year) as double precision),
       sum(reporters)
from cells
group by indicator_code, value_rule
union all
select :run_period, :measure_period, indicator_code, 'prefecture', prefecture_code, value_rule,
       cast(sum(numerator) as double precision),
       cast(sum(denominator) as double precision),
       cast(sum(numerator_comparable) as double precision),
       cast(sum(denominator_comparable) as double precision),
       cast(sum(numerator_last_year) as double precision),
       cast(sum(denominator_last_year) as double precision),
       sum(reporters)
from cells
where prefecture_code is not null
group by indicator_code, prefecture_code, value_rule
union all
select :run_period, :measure_period, indicator_code, 'sector_group', sector_group, value_rule,
       cast(sum(numerator) as double precision),
       cast(sum(denominator) as double precision),
       cast(sum(numerator_comparable) as double precision),
       cast(sum(denominator_comparable) as double precision),
       cast(sum(numerator_last_year) as double precision),
       cast(sum(denominator_last_year) as double precision),
       sum(reporters)
from cells
where sector_group is not null
group by indicator_code, sector_group, value_rule
union all
select run_period, measure_period, indicator_code, level, area_code, value_rule,
       numerator, denominator, numerator_comparable, denominator_comparable,
       numerator_last_year, denominator_last_year, reporters
from wrk_indicator_unit
where run_period = :run_period and measure_period = :measure_period and level <> 'unit'
