-- Completeness: every uscc that sent an E1 row in the period's delivery folder, whether the row was
-- accepted, quarantined or did not even parse (a reporter who reported wrongly still reported).
with staged as (
    select uscc
    from stg_enterprise_monthly
    where delivery_period = :period and uscc is not null
),
unparsed as (
    select record_key as uscc
    from stg_parse_error
    where form = 'E1' and delivery_period = :period and record_key <> ''
),
received as (
    select uscc from staged
    union
    select uscc from unparsed
)
select distinct uscc
from received
