-- The files logged as loaded of a form and delivery period, one row each: what the delivery_seq of each
-- of their staged rows (staged_rows.sql) stands for — the file's sha256, its delivery period, its name and
-- its location in the raw zone recorded at ingest (raw_path: the rows as received are read back from
-- there). delivery_seq is unique within (form, period) (etl_file_log's unique key).
select f.delivery_seq, f.file_sha256, f.period as delivery_period, f.file_name, f.raw_path
from etl_file_log as f
where f.form = :form and f.period = :period and f.status = 'loaded'
