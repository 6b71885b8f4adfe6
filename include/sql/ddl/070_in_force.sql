-- Intermediate layer: what is in force in a month, each defined once here.
-- The snapshots in force (在用名录): a snapshot of R1 (企业名录) or S1 (督办联系人) delivered for month M is
-- in force from M until the month of the next snapshot. Every query reads "the register in force for
-- :period" as
--     from int_register_in_force as r where r.in_force_period = :period
-- Each view gives, for every month of the calendar (dim_month), the rows in force then; a filter on
-- in_force_period reaches them through the primary key (no scan of all snapshots).
-- Dropped and created on every schema check, which both PostgreSQL and SQLite run.
drop view if exists int_register_in_force;
drop view if exists int_supervisors_in_force;
drop view if exists int_divisions_in_force;

create view int_register_in_force as
select m.period as in_force_period, r.*
from dim_month as m
join dim_enterprise_register as r
    on r.snapshot_period = (
        select max(s.snapshot_period) from dim_enterprise_register as s where s.snapshot_period <= m.period
    );

create view int_supervisors_in_force as
select m.period as in_force_period, d.*
from dim_month as m
join dim_supervisor as d
    on d.snapshot_period = (
        select max(s.snapshot_period) from dim_supervisor as s where s.snapshot_period <= m.period
    );

-- The divisions (GB/T 2260 行政区划) valid in a month: valid_from inclusive, valid_to exclusive, empty or
-- null = open. "The prefectures (市州) of :period" is
--     from int_divisions_in_force as d where d.in_force_period = :period and d.level = 'prefecture'
create view int_divisions_in_force as
select m.period as in_force_period, d.*
from dim_month as m
join dim_division as d
    on coalesce(d.valid_from, '') <= m.period
   and (coalesce(d.valid_to, '') = '' or d.valid_to > m.period);
