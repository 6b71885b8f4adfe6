-- The readable indicator table for statisticians (指标查询): indicator x area x period with Chinese
-- names, units and statuses. Dropped and created on every schema check, which both PostgreSQL and SQLite run.
drop view if exists rpt_indicator;

create view rpt_indicator as
select
    f.period,
    f.indicator_code,
    d.name_zh as indicator_name_zh,
    d.name_en as indicator_name_en,
    d.unit,
    d.frequency,
    f.level,
    case f.level
        when 'province' then '全省'
        when 'prefecture' then '市州'
        when 'sector_group' then '行业板块'
        when 'zone' then '产业集聚区'
        when 'chain' then '产业链'
    end as level_zh,
    f.area_code,
    f.area_name,
    f.value,
    f.value_same_period_last_year,
    f.growth,
    f.baseline_2010,
    f.target,
    f.target_2015,
    d.target_kind,
    f.status,
    case f.status
        when 'met' then '已达标'
        when 'on_track' then '达到序时目标'
        when 'lagging' then '滞后'
        when 'no_target' then '无目标'
        when 'no_data' then '无数据'
    end as status_zh,
    f.numerator,
    f.denominator,
    f.reporters,
    d.seed_clause as policy_clause,
    d.source,
    d.sort_order
from fct_indicator as f
join dim_indicator as d on d.code = f.indicator_code;
