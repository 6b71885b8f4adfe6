-- Files of a form and period that a month's run has decided (their receipt is the month's): files with
-- row outcomes, and files with no rows once their period has outcomes (int_file_decision).
select f.file_sha256
from int_file_decision as f
where f.form = :form
  and f.period = :period
  and f.decided
