-- TR_INV_GROWTH: year-to-date tech-transformation investment on the same period last year, on the
-- comparable basis: only enterprises that reported techreform_investment in both periods count.
-- One unit row per such enterprise: numerator = this year's YTD, denominator = last year's YTD;
-- rolled up, value = (Σ numerator / Σ denominator - 1) x 100. Parameters: period, period_last_year.
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
)
select 'TR_INV_GROWTH' as indicator_code, 'unit' as level, null as area_code, c.prefecture_code, c.sector_group,
       'growth' as value_rule, c.investment as numerator, l.investment as denominator,
       cast(null as double precision) as numerator_comparable, cast(null as double precision) as denominator_comparable,
       cast(null as double precision) as numerator_last_year, cast(null as double precision) as denominator_last_year, 1 as reporters
from current_facts as c
join last_year_facts as l on l.uscc = c.uscc
