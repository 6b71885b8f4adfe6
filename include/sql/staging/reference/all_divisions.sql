-- G1-H03: every Gansu division (province, prefectures, counties) with its validity (valid_to exclusive).
with divisions as (
    select code, level, valid_from, valid_to
    from dim_division
)
select code, level, valid_from, valid_to
from divisions
order by code
