-- Files of a period that were rejected as a whole, and entries refused unread, with the reason.
with rejected as (
    select form, file_name, message
    from etl_file_log
    where period = :period and status = 'rejected'
),
refused as (
    select form, entry_name as file_name, message
    from etl_refused_entry
    where period = :period
),
everything as (
    select * from rejected
    union all
    select * from refused
)
select form, file_name, message
from everything
order by form, file_name
