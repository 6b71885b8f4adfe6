-- Accepted P1 rows of the period, with review status and soft rules.
with facts as (
    select *
    from fct_project_monthly
    where period = :period
)
select *
from facts
order by project_code
