-- PROJECT_RED (红灯项目): projects whose supervision light (sup_project_light) is red in period, by
-- province, prefecture and sector group (the sector of the project's latest accepted P1 row up to
-- period). Only once supervision has judged the period (sup_run); every prefecture then gets a row
-- (a unit row counting nothing stands for each prefecture). Parameters: period.
with judged as (
    select period from sup_run where period = :period
),
lights as (
    select l.prefecture_code,
           case when l.light = 'red' then 1 else 0 end as red,
           (select i.sector_group
            from fct_project_monthly as p
            join dim_industry as i on i.division = substr(p.industry_code, 1, 2)
            where p.project_code = l.project_code and p.period <= :period
            order by p.period desc
            limit 1) as sector_group
    from sup_project_light as l
    join judged on judged.period = l.period
),
units as (
    select prefecture_code, sector_group, red, 1 as reporters
    from lights
    union all
    select d.code, null, 0, 0
    from dim_division as d
    join judged on 1 = 1
    where d.level = 'prefecture'
)
select 'PROJECT_RED' as indicator_code, 'unit' as level, null as area_code, prefecture_code, sector_group, 'sum' as value_rule,
       red as numerator, cast(null as double precision) as denominator, red as numerator_comparable, cast(null as double precision) as denominator_comparable,
       cast(null as double precision) as numerator_last_year, cast(null as double precision) as denominator_last_year, reporters
from units
