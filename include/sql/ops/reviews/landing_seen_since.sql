-- The landing entries the delivery DAG has reviewed, of a period and later (techreform.delivery.watch).
select form, period, entry_name, mtime_ns
from dlv_landing_seen
where period >= :oldest
