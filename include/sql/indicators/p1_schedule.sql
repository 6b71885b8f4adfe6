-- PROJECT_SCHEDULE (序时进度完成率): Σ ytd_investment / Σ (annual_plan_investment x month / 12) x 100
-- over the projects that reported both, by province, prefecture and sector group; comparable basis:
-- projects (project_code) that reported both in period_last_year too.
-- Parameters: period, period_last_year, month.
with current_projects as (
    select p.project_code, p.prefecture_code, i.sector_group,
           p.ytd_investment as num, p.annual_plan_investment * :month / 12.0 as den
    from fct_project_monthly as p
    left join dim_industry as i on i.division = substr(p.industry_code, 1, 2)
    where p.period = :period and p.ytd_investment is not null and p.annual_plan_investment is not null
),
last_year_projects as (
    select p.project_code, p.ytd_investment as num, p.annual_plan_investment * :month / 12.0 as den
    from fct_project_monthly as p
    where p.period = :period_last_year and p.ytd_investment is not null and p.annual_plan_investment is not null
),
flagged as (
    select c.prefecture_code, c.sector_group, c.num, c.den,
           case when l.project_code is not null then 1 else 0 end as comparable,
           l.num as num_ly, l.den as den_ly
    from current_projects as c
    left join last_year_projects as l on l.project_code = c.project_code
),
by_area as (
    select 'province' as level, '620000' as area_code,
           sum(num) as numerator, sum(den) as denominator,
           sum(case when comparable = 1 then num end) as numerator_comparable,
           sum(case when comparable = 1 then den end) as denominator_comparable,
           sum(case when comparable = 1 then num_ly end) as numerator_last_year,
           sum(case when comparable = 1 then den_ly end) as denominator_last_year,
           count(*) as reporters
    from flagged
    having count(*) > 0
    union all
    select 'prefecture', prefecture_code, sum(num), sum(den),
           sum(case when comparable = 1 then num end), sum(case when comparable = 1 then den end),
           sum(case when comparable = 1 then num_ly end), sum(case when comparable = 1 then den_ly end),
           count(*)
    from flagged
    group by prefecture_code
    union all
    select 'sector_group', sector_group, sum(num), sum(den),
           sum(case when comparable = 1 then num end), sum(case when comparable = 1 then den end),
           sum(case when comparable = 1 then num_ly end), sum(case when comparable = 1 then den_ly end),
           count(*)
    from flagged
    where sector_group is not null
    group by sector_group
)
select 'PROJECT_SCHEDULE' as indicator_code, level, area_code, 'ratio' as value_rule,
       numerator, denominator, numerator_comparable, denominator_comparable,
       numerator_last_year, denominator_last_year, reporters
from by_area
