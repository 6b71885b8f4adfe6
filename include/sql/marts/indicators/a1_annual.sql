-- A1 indicators (两化融合与技术装备年报, with the register R1): one unit row per enterprise and indicator
-- of the A1 year in use for the period (int_source_period: the latest A1 loaded up to the period), and
-- of the year in use a year earlier for "same period last year". Flags come from the register in force
-- in December of the A1 year (key enterprise, process backbone, scale, above-scale); the prefecture and
-- sector group from that register (else the A1 row's prefecture). Rolled up by rollup.sql.
--   counts (value_rule 'sum'): TECH_CENTERS_PROV (省级, 国家级), TECH_CENTERS_NATL (国家级),
--     DIGITAL_ENTERPRISES; last year: the same count over last year's A1 rows;
--   ratios: EQUIP_DOMESTIC_ADV, EQUIP_INTL_ADV (equipment units of the key enterprises' A1 rows);
--     the adoption rates over the register (indicators.csv: "/ R1.process_backbone enterprises" …): every
--     enterprise that owes an A1 (above scale and 在营 in the register in force in December of the year)
--     and has the flag counts in the denominator, one without an accepted A1 row as not adopting:
--     APC_ADOPTION (process backbone), CAX_ADOPTION (key enterprises), SME_WEBSITE_RATE and
--     SME_ECOMMERCE_RATE (中型/小型/微型; A1 comes from above-scale enterprises only);
--     comparable: enterprises in both years' populations (equipment: in both years' A1).
-- Parameters: period, period_last_year.
with years as (
    select (select data_period from int_source_period where period = :period and source_form = 'A1') as now_period,
           (select data_period from int_source_period where period = :period_last_year and source_form = 'A1')
               as ly_period
),
annual as (
    select case when a.period = y.now_period then 0 else 1 end as last_year, a.*
    from fct_enterprise_annual as a
    join years as y on a.period = y.now_period or a.period = y.ly_period
),
-- the register in force in December of each A1 year, each filtered by an equality on in_force_period (so
-- that the view reaches the snapshot through its key); no last-year register when both years are the same
register as (
    select 0 as last_year, r.*
    from int_register_in_force as r
    where r.in_force_period = (select now_period from years)
    union all
    select 1 as last_year, r.*
    from int_register_in_force as r
    where r.in_force_period = (select ly_period from years where ly_period <> now_period)
),
placed as (
    select a.*, coalesce(r.prefecture_code, nullif(a.prefecture_code, '')) as unit_prefecture,
           i.sector_group,
           coalesce(r.key_enterprise, 0) as key_enterprise
    from annual as a
    left join register as r on r.last_year = a.last_year and r.uscc = a.uscc
    left join dim_industry as i on i.division = substr(r.industry_code, 1, 2)
),
counts as (
    select 'TECH_CENTERS_PROV' as indicator_code, last_year, unit_prefecture, sector_group,
           case when tech_centre_level in ('省级', '国家级') then 1 else 0 end as hit
    from placed
    union all
    select 'TECH_CENTERS_NATL', last_year, unit_prefecture, sector_group,
           case when tech_centre_level = '国家级' then 1 else 0 end
    from placed
    union all
    select 'DIGITAL_ENTERPRISES', last_year, unit_prefecture, sector_group, digital_enterprise
    from placed
),
population as (  -- who owes an A1 of each year: the denominators of the adoption rates, with their A1 flags
    select r.last_year, r.uscc,
           r.prefecture_code as unit_prefecture, i.sector_group,
           coalesce(r.key_enterprise, 0) as key_enterprise, coalesce(r.process_backbone, 0) as process_backbone,
           case when r.scale in ('中型', '小型', '微型') then 1 else 0 end as sme,
           coalesce(a.apc_in_use, 0) as apc_in_use, coalesce(a.cax_in_use, 0) as cax_in_use,
           coalesce(a.has_website, 0) as has_website, coalesce(a.ecommerce_regular, 0) as ecommerce_regular
    from register as r
    left join annual as a on a.uscc = r.uscc and a.last_year = r.last_year
    left join dim_industry as i on i.division = substr(r.industry_code, 1, 2)
    where r.above_scale = 1 and r.operating_status = '在营'
),
ratio_units as (
    select 'EQUIP_DOMESTIC_ADV' as indicator_code, uscc, last_year, unit_prefecture, sector_group,
           key_equipment_domestic_adv as num, key_equipment_total as den
    from placed where key_enterprise = 1
    union all
    select 'EQUIP_INTL_ADV', uscc, last_year, unit_prefecture, sector_group,
           key_equipment_intl_adv, key_equipment_total
    from placed where key_enterprise = 1
    union all
    select 'APC_ADOPTION', uscc, last_year, unit_prefecture, sector_group, apc_in_use, 1
    from population where process_backbone = 1
    union all
    select 'CAX_ADOPTION', uscc, last_year, unit_prefecture, sector_group, cax_in_use, 1
    from population where key_enterprise = 1
    union all
    select 'SME_WEBSITE_RATE', uscc, last_year, unit_prefecture, sector_group, has_website, 1
    from population where sme = 1
    union all
    select 'SME_ECOMMERCE_RATE', uscc, last_year, unit_prefecture, sector_group, ecommerce_regular, 1
    from population where sme = 1
),
ratio_pairs as (
    select c.indicator_code, c.unit_prefecture, c.sector_group, c.num, c.den, l.num as num_ly, l.den as den_ly
    from ratio_units as c
    left join ratio_units as l
        on l.indicator_code = c.indicator_code and l.uscc = c.uscc and l.last_year = 1
    where c.last_year = 0
)
select indicator_code, 'unit' as level, null as area_code, unit_prefecture as prefecture_code, sector_group,
       'sum' as value_rule,
       case when last_year = 0 then hit end as numerator,
       cast(null as double precision) as denominator,
       case when last_year = 0 then hit end as numerator_comparable,
       cast(null as double precision) as denominator_comparable,
       case when last_year = 1 then hit end as numerator_last_year,
       cast(null as double precision) as denominator_last_year,
       case when last_year = 0 then 1 else 0 end as reporters
from counts
union all
select indicator_code, 'unit', null, unit_prefecture, sector_group, 'ratio',
       num, den,
       case when num_ly is not null and den_ly is not null then num end,
       case when num_ly is not null and den_ly is not null then den end,
       num_ly, den_ly, 1
from ratio_pairs
