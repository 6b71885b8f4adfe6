-- TR_INV_CUM: tech-transformation investment since the plan began (plan_start, 2011-01), in 万元:
-- each earlier plan year's December YTD plus the current YTD; the same for the same period last year.
-- Nothing before the plan starts. Parameters: period, year_start (the period's year, -01),
-- period_last_year, year_start_last_year, plan_start.
with contributions as (
    select 0 as last_year, 1 as current_month, f.prefecture_code, f.industry_code, f.techreform_investment as amount
    from fct_enterprise_monthly as f
    where f.period = :period and f.period >= :plan_start
    union all
    select 0, 0, f.prefecture_code, f.industry_code, f.techreform_investment
    from fct_enterprise_monthly as f
    where f.period >= :plan_start and f.period < :year_start and substr(f.period, 6, 2) = '12'
      and :period >= :plan_start
    union all
    select 1, 1, f.prefecture_code, f.industry_code, f.techreform_investment
    from fct_enterprise_monthly as f
    where f.period = :period_last_year and f.period >= :plan_start
    union all
    select 1, 0, f.prefecture_code, f.industry_code, f.techreform_investment
    from fct_enterprise_monthly as f
    where f.period >= :plan_start and f.period < :year_start_last_year and substr(f.period, 6, 2) = '12'
      and :period_last_year >= :plan_start
),
grouped as (
    select c.last_year, c.current_month, c.prefecture_code, i.sector_group, c.amount
    from contributions as c
    left join dim_industry as i on i.division = substr(c.industry_code, 1, 2)
    where c.amount is not null
),
by_area as (
    select 'province' as level, '620000' as area_code,
           sum(case when last_year = 0 then amount end) as numerator,
           sum(case when last_year = 1 then amount end) as numerator_last_year,
           sum(case when last_year = 0 and current_month = 1 then 1 else 0 end) as reporters
    from grouped
    having count(*) > 0
    union all
    select 'prefecture', prefecture_code,
           sum(case when last_year = 0 then amount end), sum(case when last_year = 1 then amount end),
           sum(case when last_year = 0 and current_month = 1 then 1 else 0 end)
    from grouped
    group by prefecture_code
    union all
    select 'sector_group', sector_group,
           sum(case when last_year = 0 then amount end), sum(case when last_year = 1 then amount end),
           sum(case when last_year = 0 and current_month = 1 then 1 else 0 end)
    from grouped
    where sector_group is not null
    group by sector_group
)
select 'TR_INV_CUM' as indicator_code, level, area_code, 'sum' as value_rule,
       numerator, null as denominator,
       numerator as numerator_comparable, null as denominator_comparable,
       numerator_last_year, null as denominator_last_year, reporters
from by_area
