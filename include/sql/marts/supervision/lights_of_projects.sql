-- Every stored light of the projects codes (an expanding list), for rebuilding their cases.
with lights as (
    select period, project_code, light, reasons, escalated
    from sup_project_light
    where project_code in :codes
)
select period, project_code, light, reasons, escalated
from lights
order by project_code, period
