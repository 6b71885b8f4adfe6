-- The supervisors (S1) in force for the period (int_supervisors_in_force: the latest snapshot <= period).
select d.region_code, d.name, d.email, d.role
from int_supervisors_in_force as d
where d.in_force_period = :period
order by d.region_code, d.email
