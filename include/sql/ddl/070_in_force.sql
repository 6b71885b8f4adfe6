-- Intermediate layer: what is in force in a month, each defined once here.
-- The snapshots in force (在用名录): a snapshot of R1 (企业名录), S1 (督办联系人) or G1 (平台与示范项目名录)
-- delivered for month M is in force from M until the month of the next snapshot. Every query reads "the
-- register in force for :period" as
--     from int_register_in_force as r where r.in_force_period = :period
-- Each view gives, for every month of the calendar (dim_month), the rows in force then; a filter on
-- in_force_period reaches them through the primary key (no scan of all snapshots).
-- Dropped and created on every schema check, which both PostgreSQL and SQLite run.
drop view if exists int_register_in_force;
drop view if exists int_supervisors_in_force;
drop view if exists int_programme_in_force;
drop view if exists int_snapshots_in_force;
drop view if exists int_divisions_in_force;

-- The snapshot period of each snapshot form in force in each month (null before its first snapshot): the
-- latest snapshot up to the month, found through the snapshot table's primary key. Grouped by the month
-- (its key, so one row per month as without it) so that no planner inlines the view: each month's
-- snapshot is then found once and its rows joined by equality. Inlined, PostgreSQL put the subquery into
-- the join's condition and ran it once per register row (500,000 times at a national month: the reporting
-- rate 3.0 -> 0.6 s; docs/performance.md).
create view int_snapshots_in_force as
select m.period as in_force_period,
       (select max(s.snapshot_period) from dim_enterprise_register as s where s.snapshot_period <= m.period)
           as register_snapshot,
       (select max(s.snapshot_period) from dim_supervisor as s where s.snapshot_period <= m.period)
           as supervisors_snapshot,
       (select max(s.snapshot_period) from dim_programme_item as s where s.snapshot_period <= m.period)
           as programme_snapshot
from dim_month as m
group by m.period;

create view int_register_in_force as
select m.in_force_period, r.*
from int_snapshots_in_force as m
join dim_enterprise_register as r on r.snapshot_period = m.register_snapshot;

create view int_supervisors_in_force as
select m.in_force_period, d.*
from int_snapshots_in_force as m
join dim_supervisor as d on d.snapshot_period = m.supervisors_snapshot;

create view int_programme_in_force as
select m.in_force_period, g.*
from int_snapshots_in_force as m
join dim_programme_item as g on g.snapshot_period = m.programme_snapshot;

-- The divisions (GB/T 2260 行政区划) valid in a month: valid_from inclusive, valid_to exclusive, empty or
-- null = open. "The prefectures (市州) of :period" is
--     from int_divisions_in_force as d where d.in_force_period = :period and d.level = 'prefecture'
create view int_divisions_in_force as
select m.period as in_force_period, d.*
from dim_month as m
join dim_division as d
    on coalesce(d.valid_from, '') <= m.period
   and (coalesce(d.valid_to, '') = '' or d.valid_to > m.period);
