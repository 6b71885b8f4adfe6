-- Every staged row of a form and delivery period (all deliveries), with its file's name and its location
-- in the raw zone recorded at ingest (raw_path: the rows as received are read back from there). The staging
-- table is the form's (slot {{ staging_table }}: stg_enterprise_monthly, stg_project_monthly, ...).
-- No order by: the caller puts the rows in delivery order (techreform.load.into_delivery_order), cheaper
-- than the database sorting every column of a period's rows.
select s.*, f.file_name, f.raw_path
from {{ staging_table }} as s
join etl_file_log as f
    on f.file_sha256 = s.file_sha256 and f.period = s.delivery_period and f.form = :form
    and f.status = 'loaded'
where s.delivery_period = :period
