-- Completeness (报送率) in a period of the forms expected from their previous reporters (Q1: those with an
-- accepted report in the twelve months before), by prefecture and for the province (620000, last).
-- E1's completeness, expected from the register, is dq_completeness (completeness_by_month.sql).
select form, prefecture_code, prefecture_name, expected, received, missing, rate
from dq_form_completeness
where period = :period
order by form, case when prefecture_code = '620000' then 1 else 0 end, prefecture_code
