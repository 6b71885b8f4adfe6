-- Intermediate layer: the forms that have row outcomes (validated and loaded rows), each found by one
-- seek in etl_row_outcome's primary key (form, period, …) past the form before it: a loose index scan,
-- which neither engine makes of a "select distinct form" here (PostgreSQL has none; SQLite's skip-scan
-- needs the statistics it is not given, warehouse.refresh_statistics). A query of one period's outcomes
-- of every form joins it, so that it reads that period's rows through the key instead of scanning the
-- outcomes of every month ever loaded (docs/performance.md, round 13):
--     from int_outcome_forms as f join etl_row_outcome as o on o.form = f.form and o.period = :period
-- Dropped and created on every schema check, which both PostgreSQL and SQLite run.
drop view if exists int_outcome_forms;

create view int_outcome_forms as
with recursive forms (form) as (
    select min(o.form) from etl_row_outcome as o
    union all
    select (select min(o.form) from etl_row_outcome as o where o.form > f.form)
    from forms as f
    where f.form is not null
)
select form from forms where form is not null;
