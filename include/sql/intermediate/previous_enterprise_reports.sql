-- E1-S07, E1-S08: each enterprise's previous report of the same year (its latest fact with
-- year_start <= period < period).
with same_year as (
    select f.*,
           row_number() over (partition by f.uscc order by f.period desc) as recency
    from fct_enterprise_monthly as f
    where f.period < :period and f.period >= :year_start
)
select uscc, period as prev_period,
       gross_output, value_added, revenue, rd_expense, new_product_output, techreform_investment,
       energy_tce, water_m3, solid_waste_generated, solid_waste_utilized, purchase_total,
       ecommerce_purchase, ecommerce_sales
from same_year
where recency = 1
