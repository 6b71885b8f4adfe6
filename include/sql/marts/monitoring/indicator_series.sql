-- One indicator of one area over a range of periods: value, the period's target, growth.
select f.period, f.value, f.target, f.target_2015, f.growth, f.status
from fct_indicator as f
where f.indicator_code = :code and f.level = :level and f.area_code = :area_code
  and f.period >= :first_period and f.period <= :last_period
order by f.period
