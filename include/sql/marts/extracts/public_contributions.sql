-- One row per accepted E1 row of the period with its prefecture and sector group (行业板块): the
-- contributions of the public prefecture × sector-group tables.
with facts as (
    select uscc, prefecture_code, industry_code, gross_output, value_added, revenue, profit,
           techreform_investment
    from fct_enterprise_monthly
    where period = :period
),
groups as (
    select division, sector_group
    from dim_industry
)
select f.uscc, f.prefecture_code, coalesce(g.sector_group, '其他') as sector_group,
       f.gross_output, f.value_added, f.revenue, f.profit, f.techreform_investment
from facts as f
left join groups as g on g.division = substr(f.industry_code, 1, 2)
order by f.uscc
