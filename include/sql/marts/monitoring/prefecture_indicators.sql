-- The prefecture x indicator table of a period: every indicator computed at prefecture level.
select f.area_code as prefecture_code, f.area_name as prefecture_name, f.indicator_code as code,
       d.name_zh, d.unit, d.sort_order, f.value, f.target, f.target_2015, f.status
from fct_indicator as f
join dim_indicator as d on d.code = f.indicator_code
where f.period = :period and f.level = 'prefecture'
order by f.area_code, d.sort_order
