-- Whether a period has been validated (row outcomes of E1), its indicators computed and its projects
-- supervised: an extract is written only after all three.
with validated as (
    select count(*) as n from etl_row_outcome where form = 'E1' and period = :period
),
indicators as (
    select count(*) as n from fct_indicator where period = :period
),
supervised as (
    select count(*) as n from sup_run where period = :period
)
select v.n as validated_rows, i.n as indicator_rows, s.n as supervision_runs
from validated as v
cross join indicators as i
cross join supervised as s
