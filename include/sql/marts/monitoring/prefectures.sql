-- The prefectures (市州) of the division list in force in a period, in code order.
select code as prefecture_code, name as prefecture_name
from dim_division
where level = 'prefecture'
  and (valid_from is null or valid_from <= :period)
  and (valid_to is null or valid_to > :period)
order by code
