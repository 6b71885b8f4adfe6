-- Every staged row of a form and delivery period (all deliveries) of a file logged as loaded. The staging
-- table is the form's (slot {{ staging_table }}: stg_enterprise_monthly, stg_project_monthly, ...), its
-- columns those of slot {{ columns }}: all but what is the same on every row of a file (its sha256, the
-- delivery period), which techreform.load.read_staged takes from the file's row (staged_files.sql)
-- through delivery_seq instead of reading a 64-character text per row (docs/performance.md, round 13).
-- No order by: the caller puts the rows in delivery order (techreform.load.into_delivery_order), cheaper
-- than the database sorting every column of a period's rows.
select {{ columns }}
from (
    select s.*
    from {{ staging_table }} as s
    join etl_file_log as f
        on f.file_sha256 = s.file_sha256 and f.period = s.delivery_period and f.form = :form
        and f.status = 'loaded'
    where s.delivery_period = :period
) as s
