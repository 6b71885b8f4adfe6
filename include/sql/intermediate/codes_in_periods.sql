-- Projects with a light in first_period .. last_period (whose cases a re-run of a period can touch).
with lit as (
    select distinct project_code
    from sup_project_light
    where period between :first_period and :last_period
)
select project_code from lit order by project_code
