-- Revenue of 100 billion yuan (千亿元): annualised revenue = YTD revenue x 12 / month (万元).
-- ENTERPRISES_100B: enterprises whose annualised revenue >= threshold_wan (万元): the enterprise reports
-- counted here by cell (prefecture and sector group: one unit row each, reporters saying how many
-- reports it holds), as e1_ratios.sql does, and rolled up to province, prefecture and sector group by
-- rollup.sql; half a million unit rows would otherwise be sorted into cells by unit_cells.sql.
-- CLUSTERS_100B: each integrated zone (dim_indicator_zone) is one row (numerator = its annualised revenue in 亿元, denominator = threshold_yi, value 1 when reached) and
-- the province row counts the zones that reached it; CHAINS_100B likewise for sector groups (chains).
-- Parameters: period, period_last_year, month, threshold_wan, threshold_yi, province_code.
-- A zone's or chain's revenue is summed as numeric: exact on PostgreSQL whatever order the facts are
-- stored in (a float sum's last digit follows it, and a rerun stores the period's facts again).
with facts as (
    select case when f.period = :period then 0 else 1 end as last_year,
           f.prefecture_code, i.sector_group, f.revenue * 12.0 / :month as annual_revenue
    from fct_enterprise_monthly as f
    left join dim_industry as i on i.division = substr(f.industry_code, 1, 2)
    where f.period in (:period, :period_last_year) and f.revenue is not null
),
-- each (year, prefecture, sector group) once: the enterprises above the threshold, the revenue (numeric)
-- and how many reported; the zones, chains and cells below add these few thousand rows up instead of
-- each sorting the period's half a million facts again (docs/performance.md, round 15)
cells as (
    select last_year, prefecture_code, sector_group,
           sum(case when annual_revenue >= :threshold_wan then 1 else 0 end) as above_threshold,
           sum(cast(annual_revenue as numeric)) as revenue,
           count(*) as reporters
    from facts
    group by last_year, prefecture_code, sector_group
),
zone_revenue as (
    select z.zone_code as area_code,
           sum(case when c.last_year = 0 then c.revenue end) / 10000.0 as revenue_yi,
           sum(case when c.last_year = 1 then c.revenue end) / 10000.0 as revenue_yi_last_year,
           sum(case when c.last_year = 0 then c.reporters else 0 end) as reporters
    from cells as c
    join dim_indicator_zone as z on z.prefecture_code = c.prefecture_code
    group by z.zone_code
),
chain_revenue as (
    select sector_group as area_code,
           sum(case when last_year = 0 then revenue end) / 10000.0 as revenue_yi,
           sum(case when last_year = 1 then revenue end) / 10000.0 as revenue_yi_last_year,
           sum(case when last_year = 0 then reporters else 0 end) as reporters
    from cells
    where sector_group is not null
    group by sector_group
),
units as (
    select 'CLUSTERS_100B' as indicator_code, 'zone' as level, area_code, revenue_yi, revenue_yi_last_year, reporters
    from zone_revenue
    union all
    select 'CHAINS_100B', 'chain', area_code, revenue_yi, revenue_yi_last_year, reporters
    from chain_revenue
),
unit_counts as (
    select indicator_code,
           sum(case when revenue_yi >= :threshold_yi then 1 else 0 end) as numerator,
           sum(case when revenue_yi_last_year >= :threshold_yi then 1 else 0 end) as numerator_last_year,
           sum(case when revenue_yi is not null then 1 else 0 end) as reporting_units,
           sum(case when revenue_yi_last_year is not null then 1 else 0 end) as reporting_units_last_year,
           sum(reporters) as reporters
    from units
    group by indicator_code
)
select 'ENTERPRISES_100B' as indicator_code, 'unit' as level, null as area_code, prefecture_code, sector_group,
       'sum' as value_rule,
       sum(case when last_year = 0 then above_threshold end) as numerator,
       cast(null as double precision) as denominator,
       sum(case when last_year = 0 then above_threshold end) as numerator_comparable,
       cast(null as double precision) as denominator_comparable,
       sum(case when last_year = 1 then above_threshold end) as numerator_last_year,
       cast(null as double precision) as denominator_last_year,
       sum(case when last_year = 0 then reporters else 0 end) as reporters
from cells
group by prefecture_code, sector_group
union all
select indicator_code, level, area_code, null, null, 'threshold',
       revenue_yi, :threshold_yi, revenue_yi, :threshold_yi,
       revenue_yi_last_year, case when revenue_yi_last_year is not null then :threshold_yi end, reporters
from units
union all
select indicator_code, 'province', :province_code, null, null, 'sum',
       case when reporting_units > 0 then numerator end, null,
       case when reporting_units > 0 then numerator end, null,
       case when reporting_units_last_year > 0 then numerator_last_year end, null, reporters
from unit_counts
