-- E1 (and E1+R1) ratio indicators: Σ numerator / Σ denominator over the enterprises that reported
-- every field the indicator uses; with the comparable basis (enterprises whose row of period_last_year
-- also has those fields) for the same period last year. One unit row per enterprise and indicator,
-- rolled up to province, prefecture and sector group by rollup.sql.
-- Parameters: period, period_last_year, month (1..12, for annualising LABOR_PROD).
with register_now as (
    select r.uscc, r.emerging_industry
    from int_register_in_force as r
    where r.in_force_period = :period
),
register_last_year as (
    select r.uscc, r.emerging_industry
    from int_register_in_force as r
    where r.in_force_period = :period_last_year
),
current_facts as (
    select f.uscc, f.prefecture_code, i.sector_group,
           f.gross_output, f.value_added, f.revenue, f.profit, f.employees, f.rd_expense,
           f.new_product_output, f.energy_tce, f.water_m3, f.solid_waste_generated,
           f.solid_waste_utilized, f.purchase_total, f.ecommerce_purchase, f.ecommerce_sales,
           coalesce(r.emerging_industry, 0) as emerging_industry
    from fct_enterprise_monthly as f
    left join dim_industry as i on i.division = substr(f.industry_code, 1, 2)
    left join register_now as r on r.uscc = f.uscc
    where f.period = :period
),
last_year_facts as (
    select f.uscc,
           f.gross_output, f.value_added, f.revenue, f.profit, f.employees, f.rd_expense,
           f.new_product_output, f.energy_tce, f.water_m3, f.solid_waste_generated,
           f.solid_waste_utilized, f.purchase_total, f.ecommerce_purchase, f.ecommerce_sales,
           coalesce(r.emerging_industry, 0) as emerging_industry
    from fct_enterprise_monthly as f
    left join register_last_year as r on r.uscc = f.uscc
    where f.period = :period_last_year
),
pairs as (
    select c.*,
           l.gross_output as ly_gross_output, l.value_added as ly_value_added, l.revenue as ly_revenue,
           l.profit as ly_profit, l.employees as ly_employees, l.rd_expense as ly_rd_expense,
           l.new_product_output as ly_new_product_output, l.energy_tce as ly_energy_tce,
           l.water_m3 as ly_water_m3, l.solid_waste_generated as ly_solid_waste_generated,
           l.solid_waste_utilized as ly_solid_waste_utilized, l.purchase_total as ly_purchase_total,
           l.ecommerce_purchase as ly_ecommerce_purchase, l.ecommerce_sales as ly_ecommerce_sales,
           l.emerging_industry as ly_emerging_industry
    from current_facts as c
    left join last_year_facts as l on l.uscc = c.uscc
),
-- one row per enterprise and indicator: its numerator and denominator, this year and last year
-- (last year's pair is null unless the enterprise reported both fields then too)
contributions as (
    select 'VA_RATE' as indicator_code, prefecture_code, sector_group,
           value_added as num, gross_output as den, ly_value_added as num_ly, ly_gross_output as den_ly
    from pairs where value_added is not null and gross_output is not null
    union all
    select 'PROFIT_PER_100', prefecture_code, sector_group,
           profit, revenue, ly_profit, ly_revenue
    from pairs where profit is not null and revenue is not null
    union all
    select 'LABOR_PROD', prefecture_code, sector_group,
           value_added * 12.0 / :month, employees, ly_value_added * 12.0 / :month, ly_employees
    from pairs where value_added is not null and employees is not null
    union all
    select 'EMERGING_SHARE', prefecture_code, sector_group,
           case when emerging_industry = 1 then value_added else 0 end, value_added,
           case when ly_value_added is null then null when ly_emerging_industry = 1 then ly_value_added else 0 end,
           ly_value_added
    from pairs where value_added is not null
    union all
    select 'RD_INTENSITY', prefecture_code, sector_group,
           rd_expense, revenue, ly_rd_expense, ly_revenue
    from pairs where rd_expense is not null and revenue is not null
    union all
    select 'NEW_PRODUCT_RATE', prefecture_code, sector_group,
           new_product_output, gross_output, ly_new_product_output, ly_gross_output
    from pairs where new_product_output is not null and gross_output is not null
    union all
    select 'ENERGY_INTENSITY', prefecture_code, sector_group,
           energy_tce, value_added, ly_energy_tce, ly_value_added
    from pairs where energy_tce is not null and value_added is not null
    union all
    select 'WATER_INTENSITY', prefecture_code, sector_group,
           water_m3, value_added, ly_water_m3, ly_value_added
    from pairs where water_m3 is not null and value_added is not null
    union all
    select 'SOLID_WASTE_UTIL', prefecture_code, sector_group,
           solid_waste_utilized, solid_waste_generated, ly_solid_waste_utilized, ly_solid_waste_generated
    from pairs where solid_waste_utilized is not null and solid_waste_generated is not null
    union all
    select 'ECOMMERCE_SHARE', prefecture_code, sector_group,
           ecommerce_purchase + ecommerce_sales, purchase_total + revenue,
           ly_ecommerce_purchase + ly_ecommerce_sales, ly_purchase_total + ly_revenue
    from pairs
    where ecommerce_purchase is not null and ecommerce_sales is not null
      and purchase_total is not null and revenue is not null
),
flagged as (
    select indicator_code, prefecture_code, sector_group, num, den,
           case when num_ly is not null and den_ly is not null then 1 else 0 end as comparable,
           num_ly, den_ly
    from contributions
)
select indicator_code, 'unit' as level, null as area_code, prefecture_code, sector_group, 'ratio' as value_rule,
       num as numerator, den as denominator,
       case when comparable = 1 then num end as numerator_comparable,
       case when comparable = 1 then den end as denominator_comparable,
       case when comparable = 1 then num_ly end as numerator_last_year,
       case when comparable = 1 then den_ly end as denominator_last_year,
       1 as reporters
from flagged
