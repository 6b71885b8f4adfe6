-- Files already received for a form and period, by content.
select file_sha256, file_name, status, rows_received, message, delivery_seq
from etl_file_log
where form = :form and period = :period
order by delivery_seq
