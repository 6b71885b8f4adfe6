-- E1-S09, P1-S03: the codes of every enterprise in the register snapshot in force for the period.
with snapshot as (
    select max(snapshot_period) as snapshot_period
    from dim_enterprise_register
    where snapshot_period <= :period
)
select r.uscc, r.region_code, r.industry_code
from dim_enterprise_register as r
join snapshot as s on r.snapshot_period = s.snapshot_period
