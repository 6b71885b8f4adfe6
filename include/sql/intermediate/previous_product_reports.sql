-- Q1-S02: each (enterprise, product)'s latest report of the same year before the period
-- (year_start <= period < the period), as loaded.
with earlier as (
    select q.uscc, q.product_code, q.period, q.quantity_t,
           row_number() over (partition by q.uscc, q.product_code order by q.period desc) as recency
    from fct_product_output as q
    where q.period < :period and q.period >= :year_start
)
select uscc, product_code, period as prev_period, quantity_t as prev_quantity_t
from earlier
where recency = 1
