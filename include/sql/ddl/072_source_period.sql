-- The data an indicator of a yearly or snapshot form uses in a month (docs/indicators.md):
--   A1: the latest year whose A1 was loaded up to the month (period <YYYY>-12, fct_enterprise_annual);
--   G1: the snapshot in force in the month (dim_programme_item).
-- The indicator families read it to pick their rows; finalise writes it into fct_indicator.data_period.
-- Dropped and created on every schema check, which both PostgreSQL and SQLite run.
drop view if exists int_source_period;

create view int_source_period as
select m.period, 'A1' as source_form,
       (select max(a.period) from fct_enterprise_annual as a where a.period <= m.period) as data_period
from dim_month as m
union all
select m.period, 'G1' as source_form,
       (select max(g.snapshot_period) from dim_programme_item as g where g.snapshot_period <= m.period)
from dim_month as m;
