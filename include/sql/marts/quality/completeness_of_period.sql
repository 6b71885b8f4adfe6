-- Completeness of a period by prefecture (for receipts and reports).
with period_rows as (
    select prefecture_code, prefecture_name, expected, received, missing, rate
    from dq_completeness
    where period = :period
)
select * from period_rows
order by prefecture_code
