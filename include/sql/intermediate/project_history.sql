-- The latest depth accepted P1 reports of every project up to period, with the first period each
-- project was reported finished (竣工/投产), for the light rules.
with reports as (
    select f.period, f.project_code, f.project_name, f.uscc, f.region_code, f.prefecture_code,
           f.key_project, f.planned_start, f.planned_completion, f.actual_start, f.actual_completion,
           f.annual_plan_investment, f.ytd_investment, f.cumulative_investment, f.status,
           row_number() over (partition by f.project_code order by f.period desc) as recency
    from fct_project_monthly as f
    where f.period <= :period
),
finished as (
    select project_code, min(period) as first_finished_period
    from fct_project_monthly
    where period <= :period and status in ('竣工', '投产')
    group by project_code
)
select r.period, r.project_code, r.project_name, r.uscc, r.region_code, r.prefecture_code,
       r.key_project, r.planned_start, r.planned_completion, r.actual_start, r.actual_completion,
       r.annual_plan_investment, r.ytd_investment, r.cumulative_investment, r.status,
       fin.first_finished_period
from reports as r
left join finished as fin on fin.project_code = r.project_code
where r.recency <= :depth
order by r.project_code, r.period
