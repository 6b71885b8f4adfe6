-- Every indicator of the catalogue for the period by province, prefecture and sector group. An
-- indicator with no fact for the period still appears once, for the province, as no_data.
with catalogue as (
    select code, sort_order, name_zh, name_en, unit, target_basis
    from dim_indicator
),
facts as (
    select indicator_code, level, area_code, area_name, value, value_same_period_last_year,
           baseline_2010, target, target_2015, status
    from fct_indicator
    where period = :period
      and level in ('province', 'prefecture', 'sector_group')
),
with_facts as (
    select c.code, c.sort_order, c.name_zh, c.name_en, c.unit, c.target_basis,
           f.level, f.area_code, f.area_name, f.value, f.value_same_period_last_year,
           f.baseline_2010, f.target, f.target_2015, f.status
    from catalogue as c
    join facts as f on f.indicator_code = c.code
),
without_facts as (
    select c.code, c.sort_order, c.name_zh, c.name_en, c.unit, c.target_basis,
           'province' as level, '620000' as area_code, '甘肃省' as area_name,
           cast(null as double precision) as value,
           cast(null as double precision) as value_same_period_last_year,
           cast(null as double precision) as baseline_2010,
           cast(null as double precision) as target,
           cast(null as double precision) as target_2015,
           'no_data' as status
    from catalogue as c
    where not exists (select 1 from facts as f where f.indicator_code = c.code)
),
combined as (
    select * from with_facts
    union all
    select * from without_facts
)
select cast(:period as text) as period,
       code as indicator_code,
       name_zh as indicator_name_zh,
       name_en as indicator_name_en,
       level,
       area_code,
       area_name,
       value,
       unit,
       value_same_period_last_year,
       case when target_basis in ('pp_vs_2010', 'pct_vs_2010') then baseline_2010 end as baseline_2010,
       target,
       target_2015,
       status
from combined
order by sort_order,
         case level when 'province' then 0 when 'prefecture' then 1 else 2 end,
         area_code
