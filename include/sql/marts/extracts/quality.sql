-- Per form and prefecture: rows received, accepted, quarantined, queried and superseded, with the E1
-- reporting rate (报送率) of the prefecture.
with outcomes as (
    select form, coalesce(prefecture_code, '') as prefecture_code, outcome, review_status, superseded
    from etl_row_outcome
    where period = :period
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
),
completeness as (
    select prefecture_code, expected, received as reporters, rate
    from dq_completeness
    where period = :period
)
select cast(:period as text) as period, c.form, c.prefecture_code, coalesce(d.name, '(未知)') as prefecture_name,
       c.received, c.accepted, c.quarantined, c.queried, c.superseded,
       case when c.form = 'E1' then k.expected end as expected_reporters,
       case when c.form = 'E1' then k.reporters end as reporting_enterprises,
       case when c.form = 'E1' then k.rate * 100 end as reporting_rate
from counted as c
left join dim_division as d on d.code = c.prefecture_code
left join completeness as k on k.prefecture_code = c.prefecture_code
order by c.form, c.prefecture_code
