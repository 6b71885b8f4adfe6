-- The province's headline indicators (dim_indicator.headline = 1) of period against their targets.
select d.code, d.name_zh, d.unit, f.value, f.target, f.target_2015, f.status, f.value_same_period_last_year,
       f.growth
from dim_indicator as d
join fct_indicator as f on f.indicator_code = d.code and f.level = 'province' and f.period = :period
where d.headline = 1
order by d.sort_order
