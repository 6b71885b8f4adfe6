-- Every period supervision has judged.
with runs as (
    select period from sup_run
)
select period from runs order by period
