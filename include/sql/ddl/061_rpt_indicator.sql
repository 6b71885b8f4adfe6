-- The readable indicator table for statisticians (指标查询): indicator x area x period with Chinese
-- names, units and statuses (labels from dim_label, i.e. techreform.labels). Dropped and created on every schema check, which both PostgreSQL and SQLite run.
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
    level_label.label_zh as level_zh,
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
    status_label.label_zh as status_zh,
    f.data_period,
    f.numerator,
    f.denominator,
    f.reporters,
    d.seed_clause as policy_clause,
    d.source,
    d.sort_order
from fct_indicator as f
join dim_indicator as d on d.code = f.indicator_code
left join dim_label as level_label on level_label.kind = 'level' and level_label.code = f.level
left join dim_label as status_label on status_label.kind = 'indicator_status' and status_label.code = f.status;
