-- Gate: input rows of a form and period and how many of them were quarantined.
with outcomes as (
    select outcome
    from etl_row_outcome
    where form = :form and period = :period
)
select count(*) as received,
       coalesce(sum(case when outcome = 'quarantined' then 1 else 0 end), 0) as quarantined
from outcomes
