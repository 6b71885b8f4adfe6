-- PROJECT_SCHEDULE (序时进度完成率): Σ ytd_investment / Σ (annual_plan_investment x month / 12) x 100
-- over the projects that reported both; comparable basis: projects (project_code) that reported both
-- in period_last_year too. One unit row per project (rolled up by rollup.sql).
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
)
select 'PROJECT_SCHEDULE' as indicator_code, 'unit' as level, null as area_code, c.prefecture_code, c.sector_group,
       'ratio' as value_rule, c.num as numerator, c.den as denominator,
       case when l.project_code is not null then c.num end as numerator_comparable,
       case when l.project_code is not null then c.den end as denominator_comparable,
       l.num as numerator_last_year, l.den as denominator_last_year, 1 as reporters
from current_projects as c
left join last_year_projects as l on l.project_code = c.project_code
