-- The prefectures (市州) of the division list in force in a period, in code order.
select code as prefecture_code, name as prefecture_name
from int_divisions_in_force
where in_force_period = :period
  and level = 'prefecture'
order by code
