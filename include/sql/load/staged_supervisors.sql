-- Every staged supervisors row of a delivery period (all deliveries), with its file's name.
select s.*, f.file_name
from stg_supervisors as s
join etl_file_log as f
    on f.file_sha256 = s.file_sha256 and f.period = s.delivery_period and f.status = 'loaded'
where s.delivery_period = :period
order by s.delivery_seq, s.file_sha256, s.source_row
