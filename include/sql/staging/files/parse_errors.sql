-- Rows of a form and period whose cells did not parse (rule <CODE>-H00), with their file's name.
-- No order by: the caller puts them in delivery order (techreform.load.into_delivery_order), as the staged rows.
select e.file_sha256, e.source_row, e.delivery_seq, e.record_key, e.raw_json, e.fields, e.messages, f.file_name
from stg_parse_error as e
join etl_file_log as f
    on f.file_sha256 = e.file_sha256 and f.period = e.delivery_period and f.form = e.form
where e.form = :form and e.delivery_period = :period
