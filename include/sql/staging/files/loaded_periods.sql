-- Periods of a form that have been validated and loaded (they have row outcomes).
select distinct period
from etl_row_outcome
where form = :form
