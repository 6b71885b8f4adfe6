-- The supervision cases open at the end of a period (opened by then, not closed by then), with the
-- project's light of the period (or its last flagged one) and whether the case is escalated as of it.
with open_cases as (
    select c.case_id, c.project_code, c.opened_period, c.escalated_period, c.worst_light,
           (select max(cp.period) from sup_case_period as cp
            where cp.case_id = c.case_id and cp.period <= :period) as last_period
    from sup_case as c
    where c.opened_period <= :period
      and (c.closed_period is null or c.closed_period > :period)
)
select o.case_id, o.project_code, o.opened_period, o.worst_light,
       case when o.escalated_period is not null and o.escalated_period <= :period then 1 else 0 end as escalated,
       o.escalated_period, cp.months_open, cp.light, cp.reasons,
       l.project_name, l.enterprise_name, l.county_name, l.prefecture_code, l.prefecture_name, l.key_project,
       l.annual_plan_investment, l.ytd_investment, l.lag_pp
from open_cases as o
join sup_case_period as cp on cp.case_id = o.case_id and cp.period = o.last_period
join sup_project_light as l on l.project_code = o.project_code and l.period = o.last_period
order by escalated desc, l.prefecture_code, o.opened_period, o.project_code
