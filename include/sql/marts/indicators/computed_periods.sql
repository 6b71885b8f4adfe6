-- The periods that have indicator rows, in order.
select distinct period
from fct_indicator
order by period
