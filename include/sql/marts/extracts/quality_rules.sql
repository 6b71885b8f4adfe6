-- How often each rule was broken in the period, per form and prefecture (one count per input row).
with failures as (
    select form, prefecture_code, rule_id
    from dq_row_failure
    where period = :period
)
select form, prefecture_code, rule_id, count(*) as rows_broken
from failures
group by form, prefecture_code, rule_id
order by form, prefecture_code, rule_id
