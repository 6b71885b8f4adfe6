-- The policy's sector groups (行业板块) of GB/T 4754-2011 divisions, in a stable order.
with groups as (
    select distinct sector_group
    from dim_industry
)
select sector_group
from groups
order by sector_group
