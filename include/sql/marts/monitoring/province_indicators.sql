-- Every indicator of the province in a period against its targets, headline ones first, with the
-- catalogue's name, unit and order (new indicators of the catalogue appear without a change here).
select f.indicator_code as code, d.name_zh, d.unit, d.headline, d.sort_order, d.frequency,
       f.value, f.target, f.target_2015, f.status, f.growth, f.value_same_period_last_year, f.reporters
from fct_indicator as f
join dim_indicator as d on d.code = f.indicator_code
where f.period = :period and f.level = 'province'
order by d.headline desc, d.sort_order
