-- Completeness: the usccs that sent an E1 row in the period's delivery folder, whether the row was
-- accepted, quarantined or did not even parse (a reporter who reported wrongly still reported). One
-- row per row sent, not made distinct: what reads it only asks whether a code is among them, and
-- making half a million codes distinct is a sort (docs/performance.md).
select uscc
from stg_enterprise_monthly
where delivery_period = :period and uscc is not null
union all
select record_key as uscc
from stg_parse_error
where form = 'E1' and delivery_period = :period and record_key <> ''
