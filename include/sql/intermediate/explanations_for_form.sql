-- Explanations (核实说明) of one form: which (record_key, period, rule_id) have been explained.
with explained as (
    select record_key, period, rule_id
    from dim_explanation
    where form = :form
)
select distinct record_key, period, rule_id
from explained
