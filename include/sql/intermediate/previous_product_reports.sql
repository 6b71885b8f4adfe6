-- Q1-S02: each (enterprise, product)'s latest report of the same year before the period
-- (year_start <= period < the period), as loaded. The latest month is found on the keys alone, then its
-- row read by the primary key (as previous_enterprise_reports.sql).
with latest as (
    select q.uscc, q.product_code, max(q.period) as prev_period
    from fct_product_output as q
    where q.period < :period and q.period >= :year_start
    group by q.uscc, q.product_code
)
select q.uscc, q.product_code, q.period as prev_period, q.quantity_t as prev_quantity_t
from latest as l
join fct_product_output as q on q.period = l.prev_period and q.uscc = l.uscc and q.product_code = l.product_code
