-- The supervisors (S1) in force for the period: the latest snapshot delivered for a month <= the period.
with snapshot as (
    select max(snapshot_period) as snapshot_period
    from dim_supervisor
    where snapshot_period <= :period
)
select d.region_code, d.name, d.email, d.role
from dim_supervisor as d
join snapshot as s on d.snapshot_period = s.snapshot_period
order by d.region_code, d.email
