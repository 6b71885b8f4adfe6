-- Files of a period that were rejected as a whole, with the reason.
select form, file_name, message
from etl_file_log
where period = :period and status = 'rejected'
order by form, file_name
