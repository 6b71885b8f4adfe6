-- Cases flagged in period that are escalated to the province (升级督办), with their project.
with escalated as (
    select cp.case_id, cp.project_code, cp.months_open, c.opened_period, c.escalated_period
    from sup_case_period as cp
    join sup_case as c on c.case_id = cp.case_id
    where cp.period = :period and cp.escalated = 1
)
select e.case_id, e.project_code, e.months_open, e.opened_period, e.escalated_period,
       l.project_name, l.enterprise_name, l.county_name, l.prefecture_code, l.prefecture_name,
       l.key_project, l.annual_plan_investment, l.ytd_investment, l.lag_pp, l.light, l.reasons, l.detail
from escalated as e
join sup_project_light as l on l.project_code = e.project_code and l.period = :period
order by l.prefecture_code, e.project_code
