-- Completeness (报送率) by prefecture (and the province, 620000) over a range of periods.
select period, prefecture_code, prefecture_name, expected, received, missing, rate
from dq_completeness
where period >= :first_period and period <= :last_period
order by prefecture_code, period
