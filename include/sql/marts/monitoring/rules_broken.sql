-- The rules of a period by rows broken, most first.
select form, rule_id, severity, evaluated, failed
from dq_rule_result
where period = :period and failed > 0
order by failed desc, form, rule_id
