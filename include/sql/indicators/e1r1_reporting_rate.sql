-- REPORTING_RATE (报送率): expected enterprises = the register in force for period (the latest
-- snapshot <= period) that is above-scale and operating (在营); reporting = those of them with an
-- accepted E1 row for period (fct_enterprise_monthly). By the register's prefecture and sector group.
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
),
by_area as (
    select 'province' as level, '620000' as area_code, sum(reported) as numerator, count(*) as denominator
    from flagged
    having count(*) > 0
    union all
    select 'prefecture', prefecture_code, sum(reported), count(*)
    from flagged
    group by prefecture_code
    union all
    select 'sector_group', sector_group, sum(reported), count(*)
    from flagged
    where sector_group is not null
    group by sector_group
)
select 'REPORTING_RATE' as indicator_code, level, area_code, 'ratio' as value_rule,
       numerator, denominator, null as numerator_comparable, null as denominator_comparable,
       null as numerator_last_year, null as denominator_last_year, numerator as reporters
from by_area
