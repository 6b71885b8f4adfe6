-- Gate: the supervisors (S1) snapshot in force for the period (null when none was ever accepted).
with snapshots as (
    select snapshot_period
    from dim_supervisor
    where snapshot_period <= :period
)
select max(snapshot_period) as snapshot_period from snapshots
