-- Files of a form and period that a month's run has decided (their receipt is the month's): files with
-- row outcomes, and files with no rows once their period has outcomes (as periods_with_unloaded_files).
with decided_period as (
    select count(*) as outcomes
    from etl_row_outcome
    where form = :form and period = :period
)
select f.file_sha256
from etl_file_log as f
cross join decided_period as d
where f.form = :form
  and f.period = :period
  and (
      exists (
          select 1 from etl_row_outcome as o
          where o.form = f.form and o.period = f.period and o.file_sha256 = f.file_sha256
      )
      or (f.rows_received = 0 and d.outcomes > 0)
  )
