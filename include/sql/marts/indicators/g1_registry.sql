-- G1 indicators (平台与示范认定名录): items of the snapshot in force at the end of the period that count
-- then (recognised <= period and not revoked by then); last year: the same at period_last_year.
--   SME_PLATFORMS_PROV: sme_platform at level 省级 or 国家级 (provincial or above);
--   INCUBATORS_NEW: incubator recognised from 2011-01 (plan_start), any level;
--   CIRCULAR_PARKS: circular_park, any level; CIRCULAR_ENTERPRISES: circular_enterprise, any level;
--   NATL_DEMO_BASES: demo_base at level 国家级;
--   SME_NETWORK_COUNTY_COVERAGE: counties (county-level divisions valid in the period) with at least one
--     county_platform sited in them / counties: one unit row per county (ratio, comparable = every county).
-- Unit rows carry the item's or county's prefecture (none for an item of the province); rollup.sql sums.
-- Parameters: period, period_last_year, plan_start.
with months as (
    select cast(:period as text) as month, 0 as last_year
    union all
    select cast(:period_last_year as text), 1
),
items as (
    select m.last_year, g.item_type, g.level, g.recognised, g.region_code, nullif(g.prefecture_code, '') as prefecture_code
    from months as m
    join int_programme_in_force as g on g.in_force_period = m.month
    where g.recognised <= m.month and (g.revoked is null or g.revoked > m.month)
),
counted as (
    select 'SME_PLATFORMS_PROV' as indicator_code, last_year, prefecture_code
    from items where item_type = 'sme_platform' and level in ('省级', '国家级')
    union all
    select 'INCUBATORS_NEW', last_year, prefecture_code
    from items where item_type = 'incubator' and recognised >= :plan_start
    union all
    select 'CIRCULAR_PARKS', last_year, prefecture_code
    from items where item_type = 'circular_park'
    union all
    select 'CIRCULAR_ENTERPRISES', last_year, prefecture_code
    from items where item_type = 'circular_enterprise'
    union all
    select 'NATL_DEMO_BASES', last_year, prefecture_code
    from items where item_type = 'demo_base' and level = '国家级'
),
snapshots as (
    select m.last_year, m.month,
           case when exists (select 1 from int_programme_in_force as g where g.in_force_period = m.month)
                then 1 else 0 end as has_snapshot
    from months as m
),
counties as (
    select s.last_year, d.code, d.prefecture_code,
           case when exists (
               select 1 from items as i
               where i.last_year = s.last_year and i.item_type = 'county_platform' and i.region_code = d.code
           ) then 1 else 0 end as covered
    from snapshots as s
    join int_divisions_in_force as d
        on d.in_force_period = s.month
       and d.level = 'county'
    where s.has_snapshot = 1
),
coverage as (
    select c.prefecture_code, c.covered as num, l.covered as num_ly
    from counties as c
    left join counties as l on l.code = c.code and l.last_year = 1
    where c.last_year = 0
)
select indicator_code, 'unit' as level, null as area_code, prefecture_code, cast(null as text) as sector_group,
       'sum' as value_rule,
       case when last_year = 0 then 1 end as numerator,
       cast(null as double precision) as denominator,
       case when last_year = 0 then 1 end as numerator_comparable,
       cast(null as double precision) as denominator_comparable,
       case when last_year = 1 then 1 end as numerator_last_year,
       cast(null as double precision) as denominator_last_year,
       case when last_year = 0 then 1 else 0 end as reporters
from counted
union all
-- a snapshot in force with no item of a type counts 0, not "no data": one zero row per type
select c.indicator_code, 'unit', null, null, cast(null as text), 'sum',
       case when s.last_year = 0 then 0 end, cast(null as double precision),
       case when s.last_year = 0 then 0 end, cast(null as double precision),
       case when s.last_year = 1 then 0 end, cast(null as double precision), 0
from snapshots as s
join (
    select 'SME_PLATFORMS_PROV' as indicator_code union all select 'INCUBATORS_NEW'
    union all select 'CIRCULAR_PARKS' union all select 'CIRCULAR_ENTERPRISES' union all select 'NATL_DEMO_BASES'
) as c on 1 = 1
where s.has_snapshot = 1
union all
select 'SME_NETWORK_COUNTY_COVERAGE', 'unit', null, prefecture_code, cast(null as text), 'ratio',
       num, 1, num, 1, num_ly, case when num_ly is not null then 1 end, 1
from coverage
