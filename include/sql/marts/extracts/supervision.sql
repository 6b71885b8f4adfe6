-- The period's project lights (灯色) with the open supervision case (督办事项) of each flagged project.
with lights as (
    select *
    from sup_project_light
    where period = :period
),
open_cases as (
    select cp.project_code, cp.case_id, c.opened_period, cp.months_open
    from sup_case_period as cp
    join sup_case as c on c.case_id = cp.case_id
    where cp.period = :period
)
select l.period, l.project_code, l.project_name, l.uscc, l.enterprise_name, l.region_code, l.county_name,
       l.prefecture_code, l.prefecture_name, l.key_project, l.annual_plan_investment, l.ytd_investment,
       l.lag_pp, l.light, l.reasons, l.escalated, l.source,
       o.case_id, o.opened_period as case_opened_period, o.months_open as case_months_open
from lights as l
left join open_cases as o on o.project_code = l.project_code
order by l.project_code
