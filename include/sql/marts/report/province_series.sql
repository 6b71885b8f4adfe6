-- Every indicator's province-level series up to the period (2011-01 on: the plan's months), with what
-- the monthly report needs to judge it: names, unit, direction, target kind, tolerance, targets, status.
select
    f.period,
    f.indicator_code,
    d.name_zh,
    d.unit,
    d.frequency,
    d.direction,
    d.target_kind,
    d.strict_target,
    d.tolerance,
    d.sort_order,
    f.value,
    f.target,
    f.target_2015,
    f.status,
    f.growth
from fct_indicator as f
join dim_indicator as d on d.code = f.indicator_code
where f.level = 'province'
  and f.period >= '2011-01'
  and f.period <= :period
order by d.sort_order, f.indicator_code, f.period
