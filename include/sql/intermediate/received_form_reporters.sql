-- Every uscc that sent a row of the form ({{ staging_table }}, parse errors of the form) in the period's
-- delivery folder, accepted, quarantined or unreadable (a unit that reported wrongly still reported).
with staged as (
    select uscc from {{ staging_table }} where delivery_period = :period and uscc is not null
),
unparsed as (
    select record_key as uscc from stg_parse_error
    where form = :form and delivery_period = :period and record_key <> ''
)
select uscc from staged
union
select uscc from unparsed
