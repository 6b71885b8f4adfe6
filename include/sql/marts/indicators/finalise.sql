-- Indicator facts of period from the run's measures (wrk_indicator_measure) and the catalogue
-- (dim_indicator): every indicator x level x area of the grid gets a row, with its value, the same
-- period last year on the comparable basis, growth, 2010 baseline, target on the straight path to
-- 2015, and status. path_share = months elapsed since 2010-12 / 60, clamped to 0..1.
-- all_indicators = 1 writes every indicator, else only indicator_code. epsilon absorbs rounding.
-- Rules (docs/indicators.md): ratio = numerator x scale / denominator; growth = (numerator /
-- denominator - 1) x scale; sum = numerator x scale; threshold = 1 when numerator >= denominator.
-- A null or zero denominator gives a null value (no_data), never an error.
insert into fct_indicator (
    period, indicator_code, level, area_code, area_name, value_rule, value, numerator, denominator,
    reporters, value_comparable, numerator_comparable, denominator_comparable,
    value_same_period_last_year, numerator_same_period_last_year, denominator_same_period_last_year,
    growth, baseline_2010, target, target_2015, status, data_period
)
with prefectures as (
    select d.code as area_code, d.name as area_name
    from int_divisions_in_force as d
    where d.in_force_period = :period
      and d.level = 'prefecture'
),
sector_groups as (
    select distinct sector_group as area_code, sector_group as area_name
    from dim_industry
),
areas as (
    select d.level, d.code as area_code, d.name as area_name
    from dim_division as d
    where d.level = 'province'
    union all
    select 'prefecture', area_code, area_name from prefectures
    union all
    select 'sector_group', area_code, area_name from sector_groups
    union all
    select distinct 'zone', zone_code, zone_name from dim_indicator_zone
    union all
    select 'chain', area_code, area_name from sector_groups
),
grid as (
    select d.code as indicator_code, a.level, a.area_code, a.area_name
    from dim_indicator as d
    join areas as a on ',' || d.levels || ',' like '%,' || a.level || ',%'
    where :all_indicators = 1 or d.code = :indicator_code
),
measures as (
    select * from wrk_indicator_measure where run_period = :period and measure_period = :period
),
baseline_measures as (
    select * from wrk_indicator_measure where run_period = :period and measure_period = :baseline_period
),
valued as (
    select g.indicator_code, g.level, g.area_code, g.area_name, d.scale, d.path, d.direction,
           d.target_basis, d.target_value, d.strict_target, d.tolerance,
           case when ',' || d.target_levels || ',' like '%,' || g.level || ',%' then 1 else 0 end as target_applies,
           m.value_rule, m.numerator, m.denominator, m.reporters,
           m.numerator_comparable, m.denominator_comparable,
           m.numerator_last_year, m.denominator_last_year,
           case m.value_rule
               when 'ratio' then case when m.denominator <> 0 then m.numerator * d.scale / m.denominator end
               when 'growth' then case when m.denominator <> 0 then (m.numerator / m.denominator - 1) * d.scale end
               when 'sum' then m.numerator * d.scale
               when 'threshold' then case when m.numerator >= m.denominator then 1.0
                                          when m.numerator < m.denominator then 0.0 end
           end as value,
           case m.value_rule
               when 'ratio' then case when m.denominator_comparable <> 0
                                      then m.numerator_comparable * d.scale / m.denominator_comparable end
               when 'sum' then m.numerator_comparable * d.scale
               when 'threshold' then case when m.numerator_comparable >= m.denominator_comparable then 1.0
                                          when m.numerator_comparable < m.denominator_comparable then 0.0 end
           end as value_comparable,
           case m.value_rule
               when 'ratio' then case when m.denominator_last_year <> 0
                                      then m.numerator_last_year * d.scale / m.denominator_last_year end
               when 'sum' then m.numerator_last_year * d.scale
               when 'threshold' then case when m.numerator_last_year >= m.denominator_last_year then 1.0
                                          when m.numerator_last_year < m.denominator_last_year then 0.0 end
           end as value_same_period_last_year,
           case b.value_rule
               when 'ratio' then case when b.denominator <> 0 then b.numerator * d.scale / b.denominator end
               when 'growth' then case when b.denominator <> 0 then (b.numerator / b.denominator - 1) * d.scale end
               when 'sum' then b.numerator * d.scale
               when 'threshold' then case when b.numerator >= b.denominator then 1.0
                                          when b.numerator < b.denominator then 0.0 end
           end as baseline_value
    from grid as g
    join dim_indicator as d on d.code = g.indicator_code
    left join measures as m
        on m.indicator_code = g.indicator_code and m.level = g.level and m.area_code = g.area_code
    left join baseline_measures as b
        on b.indicator_code = g.indicator_code and b.level = g.level and b.area_code = g.area_code
),
-- the year of A1 or the G1 snapshot an indicator of those forms used (int_source_period)
sourced as (
    select v.*, sp.data_period
    from valued as v
    join dim_indicator as d on d.code = v.indicator_code
    left join int_source_period as sp on sp.period = :period and sp.source_form = substr(d.source, 1, 2)
),
with_final_target as (
    select v.*,
           case
               when v.direction is null or v.target_value is null or v.target_applies = 0 then null
               -- a zone or a chain is one unit of a count indicator: its target is to count (reach the threshold)
               when v.level in ('zone', 'chain') then 1.0
               when v.target_basis = 'absolute' then v.target_value
               when v.target_basis = 'pp_vs_2010' then v.baseline_value + v.target_value
               when v.target_basis = 'pct_vs_2010' then v.baseline_value + abs(v.baseline_value) * v.target_value / 100.0
           end as target_2015
    from sourced as v
),
with_path_target as (
    select t.*,
           case
               when t.target_2015 is null then null
               when t.path = 'cumulative' then t.target_2015 * :path_share
               -- the straight path from the baseline, unless the baseline is already beyond the target
               when t.path = 'linear' and t.baseline_value is not null
                    and ((t.direction = 'up' and t.baseline_value < t.target_2015)
                         or (t.direction = 'down' and t.baseline_value > t.target_2015))
                   then t.baseline_value + (t.target_2015 - t.baseline_value) * :path_share
               else t.target_2015
           end as target,
           -- an 'about' target (左右) is reached within its tolerance
           case when t.direction = 'down' then t.target_2015 + t.tolerance * abs(t.target_2015)
                else t.target_2015 - t.tolerance * abs(t.target_2015) end as final_threshold
    from with_final_target as t
),
statused as (
    select p.*,
           case
               when p.value is null then 'no_data'
               when p.target_2015 is null then 'no_target'
               when p.direction = 'up' and p.strict_target = 1 and p.value > p.final_threshold + :epsilon then 'met'
               when p.direction = 'up' and p.strict_target = 0 and p.value >= p.final_threshold - :epsilon then 'met'
               when p.direction = 'down' and p.strict_target = 1 and p.value < p.final_threshold - :epsilon then 'met'
               when p.direction = 'down' and p.strict_target = 0 and p.value <= p.final_threshold + :epsilon then 'met'
               when p.direction = 'up' and p.value >= p.target - :epsilon then 'on_track'
               when p.direction = 'down' and p.value <= p.target + :epsilon then 'on_track'
               else 'lagging'
           end as status
    from with_path_target as p
)
select :period, indicator_code, level, area_code, area_name, value_rule, value, numerator, denominator,
       reporters, value_comparable, numerator_comparable, denominator_comparable,
       value_same_period_last_year, numerator_last_year, denominator_last_year,
       case when value_rule in ('ratio', 'sum') and value_same_period_last_year > 0
            then (value_comparable / value_same_period_last_year - 1) * 100.0 end,
       case when path = 'linear' then baseline_value end,
       target, target_2015, status, data_period
from statused
