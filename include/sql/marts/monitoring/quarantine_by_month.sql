-- Input rows and quarantined rows by prefecture, form and period over a range of periods: every row of
-- every delivery counted once (etl_row_outcome: input rows = accepted + quarantined). The range is read
-- form by form through the primary key (int_outcome_forms), not by a scan of every period's outcomes.
select o.period, coalesce(o.prefecture_code, '') as prefecture_code, o.form,
       count(*) as rows_in,
       sum(case when o.outcome = 'quarantined' then 1 else 0 end) as quarantined
from int_outcome_forms as f
join etl_row_outcome as o on o.form = f.form and o.period >= :first_period and o.period <= :last_period
group by o.period, coalesce(o.prefecture_code, ''), o.form
order by o.period, prefecture_code, o.form
