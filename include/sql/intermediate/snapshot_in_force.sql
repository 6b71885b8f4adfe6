-- Gate: the snapshot of a snapshot form (R1, S1) in force for the period, through its in-force view
-- (slot {{ in_force_view }}: int_register_in_force, int_supervisors_in_force); null when none is.
select max(v.snapshot_period) as snapshot_period
from {{ in_force_view }} as v
where v.in_force_period = :period
