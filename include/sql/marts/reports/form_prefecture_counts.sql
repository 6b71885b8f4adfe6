-- Rows received, accepted and quarantined per form and prefecture for a period (what the run did). The
-- period's outcomes are read form by form through the primary key (int_outcome_forms), not by a scan
-- of every period's.
with outcomes as (
    select o.form, coalesce(o.prefecture_code, '') as prefecture_code, o.outcome, o.review_status, o.superseded
    from int_outcome_forms as f
    join etl_row_outcome as o on o.form = f.form and o.period = :period
),
counted as (
    select form,
           prefecture_code,
           count(*) as received,
           sum(case when outcome = 'accepted' then 1 else 0 end) as accepted,
           sum(case when outcome = 'quarantined' then 1 else 0 end) as quarantined,
           sum(case when review_status = 'query' then 1 else 0 end) as queried,
           sum(case when superseded = 1 then 1 else 0 end) as superseded
    from outcomes
    group by form, prefecture_code
)
select c.form, c.prefecture_code, coalesce(d.name, '(未知)') as prefecture_name,
       c.received, c.accepted, c.quarantined, c.queried, c.superseded
from counted as c
left join dim_division as d on d.code = c.prefecture_code
order by c.form, c.prefecture_code
