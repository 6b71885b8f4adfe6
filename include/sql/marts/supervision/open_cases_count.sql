-- Cases flagged in period (open at the end of it).
with flagged as (
    select distinct case_id from sup_case_period where period = :period
)
select count(*) as open_cases from flagged
