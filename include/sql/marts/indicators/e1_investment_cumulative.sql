-- TR_INV_CUM: tech-transformation investment since the plan began (plan_start, 2011-01), in 万元:
-- each earlier plan year's December YTD plus the current YTD; the same for the same period last year.
-- Nothing before the plan starts. The enterprise reports used are summed here by cell (prefecture and
-- sector group: one unit row each, rolled up by rollup.sql), as e1_ratios.sql does, not sorted into
-- cells by unit_cells.sql as half a million unit rows: this year's amounts in numerator, last year's in
-- numerator_last_year, added as numeric as unit_cells.sql adds them; the current month's reports are
-- the reporters. Parameters: period, year_start (the period's year, -01), period_last_year,
-- year_start_last_year, plan_start.
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
)
select 'TR_INV_CUM' as indicator_code, 'unit' as level, null as area_code, c.prefecture_code, i.sector_group,
       'sum' as value_rule,
       sum(case when c.last_year = 0 then cast(c.amount as numeric) end) as numerator,
       cast(null as double precision) as denominator,
       sum(case when c.last_year = 0 then cast(c.amount as numeric) end) as numerator_comparable,
       cast(null as double precision) as denominator_comparable,
       sum(case when c.last_year = 1 then cast(c.amount as numeric) end) as numerator_last_year,
       cast(null as double precision) as denominator_last_year,
       sum(case when c.last_year = 0 and c.current_month = 1 then 1 else 0 end) as reporters
from contributions as c
left join dim_industry as i on i.division = substr(c.industry_code, 1, 2)
where c.amount is not null
group by c.prefecture_code, i.sector_group
