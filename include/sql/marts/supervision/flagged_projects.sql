-- The red and yellow projects of period with their case (督办事项) as of the period.
with lights as (
    select period, project_code, project_name, uscc, enterprise_name, region_code, county_name,
           prefecture_code, prefecture_name, key_project, annual_plan_investment, ytd_investment,
           lag_pp, light, reasons, detail, escalated, source
    from sup_project_light
    where period = :period and light <> 'green'
),
case_now as (
    select case_id, project_code, months_open, escalated as case_escalated
    from sup_case_period
    where period = :period
)
select l.period, l.project_code, l.project_name, l.uscc, l.enterprise_name, l.region_code, l.county_name,
       l.prefecture_code, l.prefecture_name, l.key_project, l.annual_plan_investment, l.ytd_investment,
       l.lag_pp, l.light, l.reasons, l.detail, l.escalated, l.source,
       c.case_id, c.months_open, c.case_escalated
from lights as l
left join case_now as c on c.project_code = l.project_code
order by l.prefecture_code, l.project_code
