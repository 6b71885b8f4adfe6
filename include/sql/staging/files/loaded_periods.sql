-- Periods of a form that have been validated and loaded (they have row outcomes): each found by one
-- seek in etl_row_outcome's primary key (form, period, …) past the period before it, so the cost grows
-- with the periods, not with the rows of all of them (as int_outcome_forms, ddl/073_outcome_forms.sql).
with recursive loaded (period) as (
    select min(o.period) from etl_row_outcome as o where o.form = :form
    union all
    select (select min(o.period) from etl_row_outcome as o where o.form = :form and o.period > l.period)
    from loaded as l
    where l.period is not null
)
select period from loaded where period is not null
