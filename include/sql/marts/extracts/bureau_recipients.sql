-- Supervisors (S1) in force for the period whose role names the statistics bureau (统计局).
with snapshot as (
    select max(snapshot_period) as snapshot_period
    from dim_supervisor
    where snapshot_period <= :period
)
select d.email, d.name, d.role
from dim_supervisor as d
join snapshot as s on d.snapshot_period = s.snapshot_period
where d.role like :role_pattern
order by d.email
