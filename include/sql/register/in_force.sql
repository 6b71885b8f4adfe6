-- The register snapshot in force for the period: the latest snapshot delivered for a month <= the period.
with snapshot as (
    select max(snapshot_period) as snapshot_period
    from dim_enterprise_register
    where snapshot_period <= :period
)
select r.*
from dim_enterprise_register as r
join snapshot as s on r.snapshot_period = s.snapshot_period
