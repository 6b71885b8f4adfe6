-- Entries of a delivery folder already refused (not regular files), by name and kind.
select entry_name, kind
from etl_refused_entry
where form = :form and period = :period
