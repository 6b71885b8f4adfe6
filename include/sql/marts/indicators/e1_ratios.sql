-- E1 (and E1+R1) ratio indicators: Σ numerator / Σ denominator over the enterprises that reported
-- every field the indicator uses; with the comparable basis (enterprises whose row of period_last_year
-- also has those fields) for the same period last year.
-- Each enterprise's part in each indicator is summed within its prefecture and sector group here, in one
-- pass over the enterprises: one row per indicator, prefecture and sector group (level 'unit', the units
-- already added up; reporters is how many), which unit_cells.sql and rollup.sql add up further. One row
-- per enterprise and indicator (5 million at a national month) would have to be sorted by indicator,
-- prefecture and sector group, SQLite's only way to group (docs/performance.md). Amounts are added as
-- numeric, as unit_cells.sql adds them: exact, so the same whatever order a plan reads the enterprises
-- in; each amount is cast once per enterprise and added once per pattern of bases (patterns below), and
-- the patterns' sums are added under a case, not multiplied by a flag (numeric multiplication is what
-- costs on PostgreSQL).
-- Parameters: period, period_last_year, month (1..12, for annualising LABOR_PROD), prefecture_part and
-- part_prefectures (an expanding list, never empty).
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
      -- the part of the period's prefectures read (techreform.indicators.compute.family_cells): 0 all
      -- of them; 1 those of the list part_prefectures; 2 the others (a fact always has its prefecture).
      -- Every cell below is within one prefecture: the two parts' cells are the family's, the same sums.
      and (:prefecture_part = 0
           or (:prefecture_part = 1 and f.prefecture_code in :part_prefectures)
           or (:prefecture_part = 2 and f.prefecture_code not in :part_prefectures))
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
-- per enterprise: <indicator> is 1 when it reported every field the indicator uses, <indicator>_c when
-- it reported them last year too (the comparable basis), null otherwise; x_<amount> and x_ly_<amount>,
-- each amount an indicator adds up, this year and last year, as numeric (cast once per enterprise, the
-- costly part on PostgreSQL)
reported as (
    select prefecture_code, sector_group,
           case when value_added is not null and gross_output is not null then 1 end as va_rate,
           case when value_added is not null and gross_output is not null
                 and ly_value_added is not null and ly_gross_output is not null then 1 end as va_rate_c,
           case when profit is not null and revenue is not null then 1 end as profit_per_100,
           case when profit is not null and revenue is not null
                 and ly_profit is not null and ly_revenue is not null then 1 end as profit_per_100_c,
           case when value_added is not null and employees is not null then 1 end as labor_prod,
           case when value_added is not null and employees is not null
                 and ly_value_added is not null and ly_employees is not null then 1 end as labor_prod_c,
           case when value_added is not null then 1 end as emerging_share,
           case when value_added is not null
                 and ly_value_added is not null then 1 end as emerging_share_c,
           case when rd_expense is not null and revenue is not null then 1 end as rd_intensity,
           case when rd_expense is not null and revenue is not null
                 and ly_rd_expense is not null and ly_revenue is not null then 1 end as rd_intensity_c,
           case when new_product_output is not null and gross_output is not null then 1 end as new_product_rate,
           case when new_product_output is not null and gross_output is not null
                 and ly_new_product_output is not null
                 and ly_gross_output is not null then 1 end as new_product_rate_c,
           case when energy_tce is not null and value_added is not null then 1 end as energy_intensity,
           case when energy_tce is not null and value_added is not null
                 and ly_energy_tce is not null and ly_value_added is not null then 1 end as energy_intensity_c,
           case when water_m3 is not null and value_added is not null then 1 end as water_intensity,
           case when water_m3 is not null and value_added is not null
                 and ly_water_m3 is not null and ly_value_added is not null then 1 end as water_intensity_c,
           case when solid_waste_utilized is not null
                 and solid_waste_generated is not null then 1 end as solid_waste_util,
           case when solid_waste_utilized is not null
                 and solid_waste_generated is not null
                 and ly_solid_waste_utilized is not null
                 and ly_solid_waste_generated is not null then 1 end as solid_waste_util_c,
           case when ecommerce_purchase is not null and ecommerce_sales is not null
                 and purchase_total is not null and revenue is not null then 1 end as ecommerce_share,
           case when ecommerce_purchase is not null and ecommerce_sales is not null
                 and purchase_total is not null and revenue is not null
                 and ly_ecommerce_purchase is not null and ly_ecommerce_sales is not null
                 and ly_purchase_total is not null and ly_revenue is not null then 1 end as ecommerce_share_c,
           cast(gross_output as numeric) as x_gross_output,
           cast(ly_gross_output as numeric) as x_ly_gross_output,
           cast(value_added as numeric) as x_value_added,
           cast(ly_value_added as numeric) as x_ly_value_added,
           cast(value_added * 12.0 / :month as numeric) as x_value_added_annualised,
           cast(ly_value_added * 12.0 / :month as numeric) as x_ly_value_added_annualised,
           cast(case when emerging_industry = 1 then value_added else 0 end as numeric) as x_emerging_value_added,
           cast(case when ly_emerging_industry = 1 then ly_value_added else 0 end as numeric)
               as x_ly_emerging_value_added,
           cast(revenue as numeric) as x_revenue,
           cast(ly_revenue as numeric) as x_ly_revenue,
           cast(profit as numeric) as x_profit,
           cast(ly_profit as numeric) as x_ly_profit,
           cast(employees as numeric) as x_employees,
           cast(ly_employees as numeric) as x_ly_employees,
           cast(rd_expense as numeric) as x_rd_expense,
           cast(ly_rd_expense as numeric) as x_ly_rd_expense,
           cast(new_product_output as numeric) as x_new_product_output,
           cast(ly_new_product_output as numeric) as x_ly_new_product_output,
           cast(energy_tce as numeric) as x_energy_tce,
           cast(ly_energy_tce as numeric) as x_ly_energy_tce,
           cast(water_m3 as numeric) as x_water_m3,
           cast(ly_water_m3 as numeric) as x_ly_water_m3,
           cast(solid_waste_generated as numeric) as x_solid_waste_generated,
           cast(ly_solid_waste_generated as numeric) as x_ly_solid_waste_generated,
           cast(solid_waste_utilized as numeric) as x_solid_waste_utilized,
           cast(ly_solid_waste_utilized as numeric) as x_ly_solid_waste_utilized,
           cast(ecommerce_purchase + ecommerce_sales as numeric) as x_ecommerce,
           cast(ly_ecommerce_purchase + ly_ecommerce_sales as numeric) as x_ly_ecommerce,
           cast(purchase_total + revenue as numeric) as x_purchases_and_revenue,
           cast(ly_purchase_total + ly_revenue as numeric) as x_ly_purchases_and_revenue
    from pairs
),
-- per prefecture, sector group and pattern of bases: which of the twenty bases an enterprise is in (each
-- indicator's own and its comparable basis), one bit each in the order of the indicators above (VA_RATE 1,
-- its comparable basis 2, PROFIT_PER_100 4 and 8, ... ECOMMERCE_SHARE 262144 and 524288). Each amount is
-- summed once per pattern, 30 sums per enterprise instead of the indicators' 70 (numeric sums are what
-- costs on PostgreSQL: 10.1-11.5 -> 8.6-10.3 s at a national month; docs/performance.md, round 15), and
-- cells adds up the few thousand patterns of each basis. A pattern's enterprises all reported the fields
-- of each basis it is in, so a sum taken under a basis's bit is over exactly the enterprises of that basis.
patterns as (
    select prefecture_code, sector_group, pattern,
           count(*) as enterprises,
           sum(x_gross_output) as x_gross_output,
           sum(x_ly_gross_output) as x_ly_gross_output,
           sum(x_value_added) as x_value_added,
           sum(x_ly_value_added) as x_ly_value_added,
           sum(x_value_added_annualised) as x_value_added_annualised,
           sum(x_ly_value_added_annualised) as x_ly_value_added_annualised,
           sum(x_emerging_value_added) as x_emerging_value_added,
           sum(x_ly_emerging_value_added) as x_ly_emerging_value_added,
           sum(x_revenue) as x_revenue,
           sum(x_ly_revenue) as x_ly_revenue,
           sum(x_profit) as x_profit,
           sum(x_ly_profit) as x_ly_profit,
           sum(x_employees) as x_employees,
           sum(x_ly_employees) as x_ly_employees,
           sum(x_rd_expense) as x_rd_expense,
           sum(x_ly_rd_expense) as x_ly_rd_expense,
           sum(x_new_product_output) as x_new_product_output,
           sum(x_ly_new_product_output) as x_ly_new_product_output,
           sum(x_energy_tce) as x_energy_tce,
           sum(x_ly_energy_tce) as x_ly_energy_tce,
           sum(x_water_m3) as x_water_m3,
           sum(x_ly_water_m3) as x_ly_water_m3,
           sum(x_solid_waste_generated) as x_solid_waste_generated,
           sum(x_ly_solid_waste_generated) as x_ly_solid_waste_generated,
           sum(x_solid_waste_utilized) as x_solid_waste_utilized,
           sum(x_ly_solid_waste_utilized) as x_ly_solid_waste_utilized,
           sum(x_ecommerce) as x_ecommerce,
           sum(x_ly_ecommerce) as x_ly_ecommerce,
           sum(x_purchases_and_revenue) as x_purchases_and_revenue,
           sum(x_ly_purchases_and_revenue) as x_ly_purchases_and_revenue
    from (
        select r.*,
               coalesce(va_rate, 0) + coalesce(va_rate_c, 0) * 2
                  + coalesce(profit_per_100, 0) * 4 + coalesce(profit_per_100_c, 0) * 8
                  + coalesce(labor_prod, 0) * 16 + coalesce(labor_prod_c, 0) * 32
                  + coalesce(emerging_share, 0) * 64 + coalesce(emerging_share_c, 0) * 128
                  + coalesce(rd_intensity, 0) * 256 + coalesce(rd_intensity_c, 0) * 512
                  + coalesce(new_product_rate, 0) * 1024 + coalesce(new_product_rate_c, 0) * 2048
                  + coalesce(energy_intensity, 0) * 4096 + coalesce(energy_intensity_c, 0) * 8192
                  + coalesce(water_intensity, 0) * 16384 + coalesce(water_intensity_c, 0) * 32768
                  + coalesce(solid_waste_util, 0) * 65536 + coalesce(solid_waste_util_c, 0) * 131072
                  + coalesce(ecommerce_share, 0) * 262144 + coalesce(ecommerce_share_c, 0) * 524288 as pattern
        from reported as r
    ) as flagged
    group by prefecture_code, sector_group, pattern
),
-- per prefecture and sector group: each indicator's sums over the enterprises of its basis (<indicator>_n,
-- _d), over those of the comparable basis this year (_nc, _dc) and last year (_nl, _dl), and how many
-- enterprises reported it (_r)
cells as (
    select prefecture_code, sector_group,
           -- VA_RATE: value added / gross output
           sum(case when pattern & 1 <> 0 then x_value_added end) as va_rate_n,
           sum(case when pattern & 1 <> 0 then x_gross_output end) as va_rate_d,
           sum(case when pattern & 2 <> 0 then x_value_added end) as va_rate_nc,
           sum(case when pattern & 2 <> 0 then x_gross_output end) as va_rate_dc,
           sum(case when pattern & 2 <> 0 then x_ly_value_added end) as va_rate_nl,
           sum(case when pattern & 2 <> 0 then x_ly_gross_output end) as va_rate_dl,
           sum(case when pattern & 1 <> 0 then enterprises else 0 end) as va_rate_r,
           -- PROFIT_PER_100: profit / revenue
           sum(case when pattern & 4 <> 0 then x_profit end) as profit_per_100_n,
           sum(case when pattern & 4 <> 0 then x_revenue end) as profit_per_100_d,
           sum(case when pattern & 8 <> 0 then x_profit end) as profit_per_100_nc,
           sum(case when pattern & 8 <> 0 then x_revenue end) as profit_per_100_dc,
           sum(case when pattern & 8 <> 0 then x_ly_profit end) as profit_per_100_nl,
           sum(case when pattern & 8 <> 0 then x_ly_revenue end) as profit_per_100_dl,
           sum(case when pattern & 4 <> 0 then enterprises else 0 end) as profit_per_100_r,
           -- LABOR_PROD: annualised value added / employees
           sum(case when pattern & 16 <> 0 then x_value_added_annualised end) as labor_prod_n,
           sum(case when pattern & 16 <> 0 then x_employees end) as labor_prod_d,
           sum(case when pattern & 32 <> 0 then x_value_added_annualised end) as labor_prod_nc,
           sum(case when pattern & 32 <> 0 then x_employees end) as labor_prod_dc,
           sum(case when pattern & 32 <> 0 then x_ly_value_added_annualised end) as labor_prod_nl,
           sum(case when pattern & 32 <> 0 then x_ly_employees end) as labor_prod_dl,
           sum(case when pattern & 16 <> 0 then enterprises else 0 end) as labor_prod_r,
           -- EMERGING_SHARE: value added of emerging industries / value added
           sum(case when pattern & 64 <> 0 then x_emerging_value_added end) as emerging_share_n,
           sum(case when pattern & 64 <> 0 then x_value_added end) as emerging_share_d,
           sum(case when pattern & 128 <> 0 then x_emerging_value_added end) as emerging_share_nc,
           sum(case when pattern & 128 <> 0 then x_value_added end) as emerging_share_dc,
           sum(case when pattern & 128 <> 0 then x_ly_emerging_value_added end) as emerging_share_nl,
           sum(case when pattern & 128 <> 0 then x_ly_value_added end) as emerging_share_dl,
           sum(case when pattern & 64 <> 0 then enterprises else 0 end) as emerging_share_r,
           -- RD_INTENSITY: R&D expense / revenue
           sum(case when pattern & 256 <> 0 then x_rd_expense end) as rd_intensity_n,
           sum(case when pattern & 256 <> 0 then x_revenue end) as rd_intensity_d,
           sum(case when pattern & 512 <> 0 then x_rd_expense end) as rd_intensity_nc,
           sum(case when pattern & 512 <> 0 then x_revenue end) as rd_intensity_dc,
           sum(case when pattern & 512 <> 0 then x_ly_rd_expense end) as rd_intensity_nl,
           sum(case when pattern & 512 <> 0 then x_ly_revenue end) as rd_intensity_dl,
           sum(case when pattern & 256 <> 0 then enterprises else 0 end) as rd_intensity_r,
           -- NEW_PRODUCT_RATE: new product output / gross output
           sum(case when pattern & 1024 <> 0 then x_new_product_output end) as new_product_rate_n,
           sum(case when pattern & 1024 <> 0 then x_gross_output end) as new_product_rate_d,
           sum(case when pattern & 2048 <> 0 then x_new_product_output end) as new_product_rate_nc,
           sum(case when pattern & 2048 <> 0 then x_gross_output end) as new_product_rate_dc,
           sum(case when pattern & 2048 <> 0 then x_ly_new_product_output end) as new_product_rate_nl,
           sum(case when pattern & 2048 <> 0 then x_ly_gross_output end) as new_product_rate_dl,
           sum(case when pattern & 1024 <> 0 then enterprises else 0 end) as new_product_rate_r,
           -- ENERGY_INTENSITY: energy / value added
           sum(case when pattern & 4096 <> 0 then x_energy_tce end) as energy_intensity_n,
           sum(case when pattern & 4096 <> 0 then x_value_added end) as energy_intensity_d,
           sum(case when pattern & 8192 <> 0 then x_energy_tce end) as energy_intensity_nc,
           sum(case when pattern & 8192 <> 0 then x_value_added end) as energy_intensity_dc,
           sum(case when pattern & 8192 <> 0 then x_ly_energy_tce end) as energy_intensity_nl,
           sum(case when pattern & 8192 <> 0 then x_ly_value_added end) as energy_intensity_dl,
           sum(case when pattern & 4096 <> 0 then enterprises else 0 end) as energy_intensity_r,
           -- WATER_INTENSITY: water / value added
           sum(case when pattern & 16384 <> 0 then x_water_m3 end) as water_intensity_n,
           sum(case when pattern & 16384 <> 0 then x_value_added end) as water_intensity_d,
           sum(case when pattern & 32768 <> 0 then x_water_m3 end) as water_intensity_nc,
           sum(case when pattern & 32768 <> 0 then x_value_added end) as water_intensity_dc,
           sum(case when pattern & 32768 <> 0 then x_ly_water_m3 end) as water_intensity_nl,
           sum(case when pattern & 32768 <> 0 then x_ly_value_added end) as water_intensity_dl,
           sum(case when pattern & 16384 <> 0 then enterprises else 0 end) as water_intensity_r,
           -- SOLID_WASTE_UTIL: solid waste utilised / generated
           sum(case when pattern & 65536 <> 0 then x_solid_waste_utilized end) as solid_waste_util_n,
           sum(case when pattern & 65536 <> 0 then x_solid_waste_generated end) as solid_waste_util_d,
           sum(case when pattern & 131072 <> 0 then x_solid_waste_utilized end) as solid_waste_util_nc,
           sum(case when pattern & 131072 <> 0 then x_solid_waste_generated end) as solid_waste_util_dc,
           sum(case when pattern & 131072 <> 0 then x_ly_solid_waste_utilized end) as solid_waste_util_nl,
           sum(case when pattern & 131072 <> 0 then x_ly_solid_waste_generated end) as solid_waste_util_dl,
           sum(case when pattern & 65536 <> 0 then enterprises else 0 end) as solid_waste_util_r,
           -- ECOMMERCE_SHARE: e-commerce purchases and sales / purchases and revenue
           sum(case when pattern & 262144 <> 0 then x_ecommerce end) as ecommerce_share_n,
           sum(case when pattern & 262144 <> 0 then x_purchases_and_revenue end) as ecommerce_share_d,
           sum(case when pattern & 524288 <> 0 then x_ecommerce end) as ecommerce_share_nc,
           sum(case when pattern & 524288 <> 0 then x_purchases_and_revenue end) as ecommerce_share_dc,
           sum(case when pattern & 524288 <> 0 then x_ly_ecommerce end) as ecommerce_share_nl,
           sum(case when pattern & 524288 <> 0 then x_ly_purchases_and_revenue end) as ecommerce_share_dl,
           sum(case when pattern & 262144 <> 0 then enterprises else 0 end) as ecommerce_share_r
    from patterns
    group by prefecture_code, sector_group
)
select 'VA_RATE' as indicator_code, 'unit' as level, null as area_code, prefecture_code, sector_group,
       'ratio' as value_rule, va_rate_n as numerator, va_rate_d as denominator,
       va_rate_nc as numerator_comparable, va_rate_dc as denominator_comparable,
       va_rate_nl as numerator_last_year, va_rate_dl as denominator_last_year, va_rate_r as reporters
from cells where va_rate_r > 0
union all
select 'PROFIT_PER_100', 'unit', null, prefecture_code, sector_group, 'ratio',
       profit_per_100_n, profit_per_100_d, profit_per_100_nc, profit_per_100_dc,
       profit_per_100_nl, profit_per_100_dl, profit_per_100_r
from cells where profit_per_100_r > 0
union all
select 'LABOR_PROD', 'unit', null, prefecture_code, sector_group, 'ratio',
       labor_prod_n, labor_prod_d, labor_prod_nc, labor_prod_dc, labor_prod_nl, labor_prod_dl, labor_prod_r
from cells where labor_prod_r > 0
union all
select 'EMERGING_SHARE', 'unit', null, prefecture_code, sector_group, 'ratio',
       emerging_share_n, emerging_share_d, emerging_share_nc, emerging_share_dc,
       emerging_share_nl, emerging_share_dl, emerging_share_r
from cells where emerging_share_r > 0
union all
select 'RD_INTENSITY', 'unit', null, prefecture_code, sector_group, 'ratio',
       rd_intensity_n, rd_intensity_d, rd_intensity_nc, rd_intensity_dc,
       rd_intensity_nl, rd_intensity_dl, rd_intensity_r
from cells where rd_intensity_r > 0
union all
select 'NEW_PRODUCT_RATE', 'unit', null, prefecture_code, sector_group, 'ratio',
       new_product_rate_n, new_product_rate_d, new_product_rate_nc, new_product_rate_dc,
       new_product_rate_nl, new_product_rate_dl, new_product_rate_r
from cells where new_product_rate_r > 0
union all
select 'ENERGY_INTENSITY', 'unit', null, prefecture_code, sector_group, 'ratio',
       energy_intensity_n, energy_intensity_d, energy_intensity_nc, energy_intensity_dc,
       energy_intensity_nl, energy_intensity_dl, energy_intensity_r
from cells where energy_intensity_r > 0
union all
select 'WATER_INTENSITY', 'unit', null, prefecture_code, sector_group, 'ratio',
       water_intensity_n, water_intensity_d, water_intensity_nc, water_intensity_dc,
       water_intensity_nl, water_intensity_dl, water_intensity_r
from cells where water_intensity_r > 0
union all
select 'SOLID_WASTE_UTIL', 'unit', null, prefecture_code, sector_group, 'ratio',
       solid_waste_util_n, solid_waste_util_d, solid_waste_util_nc, solid_waste_util_dc,
       solid_waste_util_nl, solid_waste_util_dl, solid_waste_util_r
from cells where solid_waste_util_r > 0
union all
select 'ECOMMERCE_SHARE', 'unit', null, prefecture_code, sector_group, 'ratio',
       ecommerce_share_n, ecommerce_share_d, ecommerce_share_nc, ecommerce_share_dc,
       ecommerce_share_nl, ecommerce_share_dl, ecommerce_share_r
from cells where ecommerce_share_r > 0
