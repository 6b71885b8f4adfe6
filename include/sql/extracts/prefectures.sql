-- The prefectures (市州) of the public tables, with their names.
with prefectures as (
    select code, name
    from dim_division
    where level = 'prefecture'
)
select code, name
from prefectures
order by code
