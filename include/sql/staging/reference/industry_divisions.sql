-- E1-H05, P1-H03, R1-H04: GB/T 4754-2011 divisions of sections B, C and D.
with divisions as (
    select division, section, name, sector_group
    from dim_industry
    where section in ('B', 'C', 'D')
)
select division, section, name, sector_group
from divisions
order by division
