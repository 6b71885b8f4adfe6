-- Input rows and quarantined rows by prefecture, form and period over a range of periods: every row of
-- every delivery counted once (etl_row_outcome: input rows = accepted + quarantined).
select period, coalesce(prefecture_code, '') as prefecture_code, form,
       count(*) as rows_in,
       sum(case when outcome = 'quarantined' then 1 else 0 end) as quarantined
from etl_row_outcome
where period >= :first_period and period <= :last_period
group by period, coalesce(prefecture_code, ''), form
order by period, prefecture_code, form
