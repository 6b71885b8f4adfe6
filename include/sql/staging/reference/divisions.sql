-- Names of divisions (counties and prefectures) for e-mails and lights.
with divisions as (
    select code, name, level, prefecture_code, prefecture_name
    from dim_division
)
select code, name, level, prefecture_code, prefecture_name
from divisions
order by code
