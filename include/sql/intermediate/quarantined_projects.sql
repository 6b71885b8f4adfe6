-- Current (not superseded) quarantined P1 rows of the periods first_period .. last_period that
-- name a project.
with current_rows as (
    select q.period, q.record_key as project_code, q.prefecture_code, q.row_json, q.rule_ids,
           q.file_name, q.source_row
    from quarantine as q
    where q.form = 'P1'
      and q.superseded = 0
      and q.record_key <> ''
      and q.period between :first_period and :last_period
)
select period, project_code, prefecture_code, row_json, rule_ids, file_name, source_row
from current_rows
order by period, project_code, file_name, source_row
