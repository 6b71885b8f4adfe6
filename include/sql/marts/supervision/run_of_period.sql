-- The supervision run of the period, if supervision judged it.
with runs as (
    select period, projects, green, yellow, red, escalated from sup_run where period = :period
)
select period, projects, green, yellow, red, escalated from runs
