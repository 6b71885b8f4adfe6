-- Q1 product-structure ratios (重点产品产量月报, year-to-date tonnes of the period): one unit row per
-- enterprise that reported the whole, numerator its part (0 when it reported no part):
-- NONFERROUS_DEEP_SHARE (deep-processed / ten nonferrous metals), STEEL_PLATE_SHARE (plate and strip /
-- steel products), CEMENT_DRY_SHARE (new dry process / cement). Comparable basis: enterprises that
-- reported the whole in period_last_year too. Prefecture and sector group from the register in force
-- (else the Q1 row's prefecture). Rolled up by rollup.sql. Parameters: period, period_last_year.
with shares as (
    select 'NONFERROUS_DEEP_SHARE' as indicator_code, 'nonferrous_deep_processed' as part,
           'nonferrous_total' as whole
    union all
    select 'STEEL_PLATE_SHARE', 'steel_plate_strip', 'steel_products_total'
    union all
    select 'CEMENT_DRY_SHARE', 'cement_new_dry_process', 'cement_total'
),
units as (
    select s.indicator_code, w.period, w.uscc, w.prefecture_code,
           coalesce(p.quantity_t, 0) as num, w.quantity_t as den
    from shares as s
    join fct_product_output as w on w.product_code = s.whole and w.period in (:period, :period_last_year)
    left join fct_product_output as p
        on p.product_code = s.part and p.uscc = w.uscc and p.period = w.period
),
pairs as (
    select c.indicator_code, coalesce(r.prefecture_code, nullif(c.prefecture_code, '')) as prefecture_code,
           i.sector_group, c.num, c.den, l.num as num_ly, l.den as den_ly
    from units as c
    left join units as l
        on l.indicator_code = c.indicator_code and l.uscc = c.uscc and l.period = :period_last_year
    left join int_register_in_force as r on r.in_force_period = :period and r.uscc = c.uscc
    left join dim_industry as i on i.division = substr(r.industry_code, 1, 2)
    where c.period = :period
)
select indicator_code, 'unit' as level, null as area_code, prefecture_code, sector_group, 'ratio' as value_rule,
       num as numerator, den as denominator,
       case when den_ly is not null then num end as numerator_comparable,
       case when den_ly is not null then den end as denominator_comparable,
       num_ly as numerator_last_year, den_ly as denominator_last_year,
       1 as reporters
from pairs
