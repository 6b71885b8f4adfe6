-- Rows of fct_indicator for period by status (all indicators, or only indicator_code).
select status, count(*) as n
from fct_indicator
where period = :period and (:all_indicators = 1 or indicator_code = :indicator_code)
group by status
order by status
