-- How many enterprise facts each prefecture has in the period, in code order: what the indicators' two
-- readers split e1_ratios.sql by (techreform.indicators.compute.prefecture_parts).
-- Parameters: period.
select f.prefecture_code, count(*) as facts
from fct_enterprise_monthly as f
where f.period = :period
group by f.prefecture_code
order by f.prefecture_code
