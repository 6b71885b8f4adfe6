-- Periods of a form with a staged file none of whose rows has an outcome yet: a file that landed after
-- the period was last loaded (a late A1). A file with no rows at all never has outcomes: it counts only
-- while its period has none either (loaded_periods.sql).
select distinct f.period
from int_file_decision as f
where f.form = :form
  and f.status = 'loaded'
  and f.rows_received > 0
  and not f.has_outcomes
