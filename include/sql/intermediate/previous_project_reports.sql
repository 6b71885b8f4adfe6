-- P1-S04: each project's previous report: ytd_investment of the latest report of the same year
-- (year_start <= period < period) and cumulative_investment of the latest report before period.
with earlier as (
    select f.project_code, f.period, f.ytd_investment, f.cumulative_investment,
           row_number() over (partition by f.project_code order by f.period desc) as recency
    from fct_project_monthly as f
    where f.period < :period
),
latest as (
    select project_code, period as prev_period, ytd_investment, cumulative_investment
    from earlier
    where recency = 1
)
select project_code,
       prev_period,
       case when prev_period >= :year_start then ytd_investment end as prev_ytd_investment,
       cumulative_investment as prev_cumulative_investment
from latest
