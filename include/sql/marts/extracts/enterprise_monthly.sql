-- Accepted E1 rows of the period (hard failures never leave), with review status and soft rules.
with facts as (
    select *
    from fct_enterprise_monthly
    where period = :period
)
select *
from facts
order by uscc
