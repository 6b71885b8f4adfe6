-- A project's light in every supervised period up to a period (its history of lights).
select l.period, l.project_code, l.project_name, l.enterprise_name, l.county_name, l.prefecture_code,
       l.prefecture_name, l.key_project, l.annual_plan_investment, l.ytd_investment, l.lag_pp, l.light,
       l.reasons, l.detail, l.escalated, l.source
from sup_project_light as l
where l.project_code = :project_code and l.period <= :period
order by l.period
