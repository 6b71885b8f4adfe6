-- Prefecture codes and names, for messages, receipts and completeness.
with prefectures as (
    select code, name
    from dim_division
    where level = 'prefecture'
)
select code, name
from prefectures
order by code
