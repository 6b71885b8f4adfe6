-- Loaded deliveries not yet taken into account by the indicators (ops_indicator_file): corrections and
-- late files to propagate, with the form and the folder's period.
select f.form, f.period, f.file_sha256
from etl_file_log as f
where f.status = 'loaded'
  and not exists (
      select 1 from ops_indicator_file as a
      where a.form = f.form and a.period = f.period and a.file_sha256 = f.file_sha256
  )
order by f.form, f.period, f.file_sha256
