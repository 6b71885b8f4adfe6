-- E1-H04, P1-H03, R1-H03: county-level divisions with their validity (valid_to exclusive).
with counties as (
    select code, name, prefecture_code, valid_from, valid_to
    from dim_division
    where level = 'county'
)
select code, name, prefecture_code, valid_from, valid_to
from counties
order by code
