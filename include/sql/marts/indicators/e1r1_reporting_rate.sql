-- REPORTING_RATE (报送率): expected enterprises = the register in force for period that is above-scale
-- and operating (在营); reporting = those of them with an accepted E1 row for period
-- (fct_enterprise_monthly). The expected enterprises are counted here by the register's prefecture and
-- sector group (numerator: those that reported, denominator: all; one row per cell, level 'unit', as
-- e1_ratios.sql sums its enterprises), not one row per enterprise for unit_cells.sql (at a national
-- month 2.5 -> 2.1 s on PostgreSQL, 0.85 -> 0.53 s on SQLite); rollup.sql adds the cells up.
-- January expects nobody (the January report is optional): no rows, hence no_data.
-- Computed here from the register and the facts (not from validation's dq_completeness, which counts
-- received rows, quarantined ones included). Parameters: period, month.
with expected as (
    select r.uscc, r.prefecture_code, i.sector_group
    from int_register_in_force as r
    left join dim_industry as i on i.division = substr(r.industry_code, 1, 2)
    where r.in_force_period = :period
      and r.above_scale = 1 and r.operating_status = '在营' and :month > 1
),
flagged as (
    select e.prefecture_code, e.sector_group,
           case when f.uscc is not null then 1 else 0 end as reported
    from expected as e
    left join fct_enterprise_monthly as f on f.uscc = e.uscc and f.period = :period
)
select 'REPORTING_RATE' as indicator_code, 'unit' as level, null as area_code, prefecture_code, sector_group,
       'ratio' as value_rule, sum(reported) as numerator, count(*) as denominator,
       cast(null as double precision) as numerator_comparable, cast(null as double precision) as denominator_comparable,
       cast(null as double precision) as numerator_last_year, cast(null as double precision) as denominator_last_year,
       sum(reported) as reporters
from flagged
group by prefecture_code, sector_group
