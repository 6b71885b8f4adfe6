-- Review receipts (审核回执): what the reporting units of the period must correct (hard) or explain
-- (soft, not yet explained), with the values as received. Rows a later delivery superseded need
-- nothing any more and are left out.
with failures as (
    select f.*
    from dq_row_failure as f
    where f.period = :period and (f.severity = 'hard' or f.explained = 0)
),
current_rows as (
    select o.form, o.file_sha256, o.source_row
    from etl_row_outcome as o
    where o.period = :period and o.superseded = 1
)
select f.form, f.period, f.prefecture_code, f.file_name, f.source_row, f.record_key, f.unit_name,
       f.rule_id, f.severity, f.field, f.message, f.received_json
from failures as f
left join current_rows as s
  on s.form = f.form and s.file_sha256 = f.file_sha256 and s.source_row = f.source_row
where s.form is null
order by f.prefecture_code, f.form, f.file_name, f.source_row, f.rule_id
