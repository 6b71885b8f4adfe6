-- The current quarantined rows of a period, for people: file, row, rules and messages.
select form, file_name, source_row, record_key, rule_ids, messages
from quarantine
where period = :period and superseded = 0
order by form, file_name, source_row
