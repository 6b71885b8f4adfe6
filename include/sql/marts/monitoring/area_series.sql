-- Every indicator of one area over a range of periods (a prefecture's trend charts).
select f.indicator_code as code, d.name_zh, d.unit, d.sort_order, f.period, f.value, f.target,
       f.target_2015, f.status
from fct_indicator as f
join dim_indicator as d on d.code = f.indicator_code
where f.level = :level and f.area_code = :area_code
  and f.period >= :first_period and f.period <= :last_period
order by d.sort_order, f.period
