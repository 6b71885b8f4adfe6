-- The G1 snapshot in force in each month (as int_register_in_force): the latest snapshot up to the month.
drop view if exists int_programme_in_force;

create view int_programme_in_force as
select m.period as in_force_period, g.*
from dim_month as m
join dim_programme_item as g
    on g.snapshot_period = (
        select max(s.snapshot_period) from dim_programme_item as s where s.snapshot_period <= m.period
    );
