-- The facts of a form's delivery period (for R1 and S1 the period's snapshot): every staged row whose
-- outcome is accepted and not superseded, its columns as staged, with the outcome's prefecture and review
-- status, its rule ids as the soft rules it broke (an accepted row broke no hard rule, so its rule ids are
-- its soft rules) and the delivery folder's period in the target's period column. Copied inside the
-- database: no staged value makes a round trip through the client (docs/performance.md).
-- Slots: {{ target_table }}, {{ staging_table }}, {{ period_column }}, {{ columns }}, the target's
-- columns filled from the staged row or the outcome (techreform.load.fact_columns), and {{ key_columns }},
-- the form's record key without the period (Form.record_key_fields): the rows go in in the order of the
-- target's primary key, so each index grows at its end instead of at random pages (the national E1
-- month on SQLite 2.8-3.3 -> 2.3-2.5 s; docs/performance.md). The order changes no stored value.
insert into {{ target_table }} ({{ columns }}, {{ period_column }})
select {{ columns }}, :period
from (
    select s.*,
           o.prefecture_code,
           o.review_status,
           o.rule_ids as soft_rule_ids
    from {{ staging_table }} as s
    join etl_row_outcome as o
        on o.form = :form and o.period = :period
        and o.file_sha256 = s.file_sha256 and o.source_row = s.source_row
    where s.delivery_period = :period
        and o.outcome = 'accepted' and o.superseded = 0
) as current_rows
order by {{ key_columns }}
