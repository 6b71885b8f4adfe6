-- The sequence number of the next delivery of a form and period (1 for the first).
select coalesce(max(delivery_seq), 0) + 1 as next_seq
from etl_file_log
where form = :form and period = :period
