-- P1-S04: each project's previous report: ytd_investment of the latest report of the same year
-- (year_start <= period < period) and cumulative_investment of the latest report before period.
-- The latest month is found on the keys alone, then its row read by the primary key (as
-- previous_enterprise_reports.sql).
with latest as (
    select f.project_code, max(f.period) as prev_period
    from fct_project_monthly as f
    where f.period < :period
    group by f.project_code
)
select f.project_code,
       f.period as prev_period,
       case when f.period >= :year_start then f.ytd_investment end as prev_ytd_investment,
       f.cumulative_investment as prev_cumulative_investment
from latest as l
join fct_project_monthly as f on f.period = l.prev_period and f.project_code = l.project_code
