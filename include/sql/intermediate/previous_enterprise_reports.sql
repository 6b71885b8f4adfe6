-- E1-S07, E1-S08: each enterprise's previous report of the same year (its latest fact with
-- year_start <= period < period).
-- The latest month is found on the keys alone (the primary key's index covers them) and its row is then
-- read by the primary key: only (uscc, period) pairs are grouped, not whole rows ranked by a window
-- (in December at 100,000 enterprises a month on SQLite 4.4-7.1 -> 1.0 s; docs/performance.md).
with latest as (
    select f.uscc, max(f.period) as prev_period
    from fct_enterprise_monthly as f
    where f.period < :period and f.period >= :year_start
    group by f.uscc
)
select f.uscc, f.period as prev_period,
       f.gross_output, f.value_added, f.revenue, f.rd_expense, f.new_product_output, f.techreform_investment,
       f.energy_tce, f.water_m3, f.solid_waste_generated, f.solid_waste_utilized, f.purchase_total,
       f.ecommerce_purchase, f.ecommerce_sales
from latest as l
join fct_enterprise_monthly as f on f.period = l.prev_period and f.uscc = l.uscc
