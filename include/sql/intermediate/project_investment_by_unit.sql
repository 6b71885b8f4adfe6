-- E1-S10: the period's accepted P1 ytd_investment summed per project unit (uscc).
with period_projects as (
    select uscc, ytd_investment
    from fct_project_monthly
    where period = :period and ytd_investment is not null
)
select uscc, sum(ytd_investment) as p1_ytd_investment, count(*) as projects
from period_projects
group by uscc
