-- E1-S09, P1-S03: the codes of every enterprise in the register snapshot in force for the period.
select r.uscc, r.region_code, r.industry_code
from int_register_in_force as r
where r.in_force_period = :period
