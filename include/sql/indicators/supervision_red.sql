-- PROJECT_RED (红灯项目): projects whose supervision light (sup_project_light) is red in period, by
-- province, prefecture and sector group (the sector of the project's latest accepted P1 row up to
-- period). Only once supervision has judged the period (sup_run); every prefecture then gets a row.
-- Parameters: period.
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
    where l.period = :period
),
prefectures as (
    select d.code as prefecture_code
    from dim_division as d
    where d.level = 'prefecture'
),
by_area as (
    select 'province' as level, '620000' as area_code,
           (select count(*) from lights where red = 1) as numerator,
           (select count(*) from lights) as reporters
    from judged
    union all
    select 'prefecture', p.prefecture_code,
           (select count(*) from lights as l where l.prefecture_code = p.prefecture_code and l.red = 1),
           (select count(*) from lights as l where l.prefecture_code = p.prefecture_code)
    from prefectures as p
    join judged on 1 = 1
    union all
    select 'sector_group', sector_group, sum(red), count(*)
    from lights
    where sector_group is not null
    group by sector_group
)
select 'PROJECT_RED' as indicator_code, level, area_code, 'sum' as value_rule,
       numerator, null as denominator, numerator as numerator_comparable, null as denominator_comparable,
       null as numerator_last_year, null as denominator_last_year, reporters
from by_area
