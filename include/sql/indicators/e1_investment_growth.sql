-- TR_INV_GROWTH: year-to-date tech-transformation investment on the same period last year, on the
-- comparable basis: only enterprises that reported techreform_investment in both periods count.
-- numerator = Σ this year's YTD, denominator = Σ last year's YTD (both over those enterprises);
-- value = (numerator / denominator - 1) x 100. Parameters: period, period_last_year.
with current_facts as (
    select f.uscc, f.prefecture_code, i.sector_group, f.techreform_investment as investment
    from fct_enterprise_monthly as f
    left join dim_industry as i on i.division = substr(f.industry_code, 1, 2)
    where f.period = :period and f.techreform_investment is not null
),
last_year_facts as (
    select f.uscc, f.techreform_investment as investment
    from fct_enterprise_monthly as f
    where f.period = :period_last_year and f.techreform_investment is not null
),
comparable as (
    select c.prefecture_code, c.sector_group, c.investment, l.investment as investment_last_year
    from current_facts as c
    join last_year_facts as l on l.uscc = c.uscc
),
by_area as (
    select 'province' as level, '620000' as area_code,
           sum(investment) as numerator, sum(investment_last_year) as denominator, count(*) as reporters
    from comparable
    having count(*) > 0
    union all
    select 'prefecture', prefecture_code, sum(investment), sum(investment_last_year), count(*)
    from comparable
    group by prefecture_code
    union all
    select 'sector_group', sector_group, sum(investment), sum(investment_last_year), count(*)
    from comparable
    where sector_group is not null
    group by sector_group
)
select 'TR_INV_GROWTH' as indicator_code, level, area_code, 'growth' as value_rule,
       numerator, denominator,
       null as numerator_comparable, null as denominator_comparable,
       null as numerator_last_year, null as denominator_last_year, reporters
from by_area
