-- Gate: the register (R1) snapshot in force for the period (null when none was ever accepted).
with snapshots as (
    select snapshot_period
    from dim_enterprise_register
    where snapshot_period <= :period
)
select max(snapshot_period) as snapshot_period from snapshots
