-- Loaded deliveries not yet taken into account by the indicators (ops_indicator_file): corrections and
-- late files to propagate, with the form and the folder's period. Only files a month's load decided
-- (int_file_decision: their rows have outcomes; a file without rows once its period has outcomes): a file
-- the instant review (techreform_delivery) ingested ahead of its period's load is in no fact yet and waits
-- for that load.
select f.form, f.period, f.file_sha256
from int_file_decision as f
where f.status = 'loaded'
  and f.decided
  and not exists (
      select 1 from ops_indicator_file as a
      where a.form = f.form and a.period = f.period and a.file_sha256 = f.file_sha256
  )
order by f.form, f.period, f.file_sha256
