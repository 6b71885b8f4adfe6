-- Indicator system (统计指标体系): the catalogue as a dimension, the integrated zones, a scratch table
-- of measures, and the indicator facts by period, level and area. See docs/indicators.md.

-- The catalogue (指标目录): include/techreform/reference/indicators.csv (the spec's) joined with
-- include/techreform/indicators/computation.csv (how each is computed), after configuration overrides.
-- Rewritten as a whole by every indicator run.
create table if not exists dim_indicator (
    code text primary key,
    sort_order integer not null,
    name_zh text not null,
    name_en text not null,
    unit text not null,
    frequency text not null,          -- monthly | annual
    formula text not null,
    target_kind text not null,        -- at_least | more_than | about | change_pp_vs_2010_at_least | ...
    target_value double precision,    -- null: no target (monitor, or assigned without configuration)
    target_source text not null,      -- catalogue | configuration
    direction text,                   -- up | down (null: no target)
    target_basis text,                -- absolute | pp_vs_2010 | pct_vs_2010 (null: no target)
    strict_target smallint not null,  -- 1: the target must be exceeded (more_than)
    tolerance double precision not null, -- relative tolerance of an 'about' target (左右)
    path text not null,               -- linear | cumulative | constant: how the target of a period is set
    levels text not null,             -- comma-separated levels the indicator is computed for
    target_levels text not null,      -- comma-separated levels the target applies to
    scale double precision not null,  -- value = numerator x scale / denominator (ratio) or numerator x scale (sum)
    family text not null,             -- include/sql/marts/indicators/<family>.sql ('' = no facts yet)
    headline smallint not null,       -- 1: in the province headline table
    seed_clause text not null,        -- the policy clause (政策条款)
    source text not null,             -- E1 | P1 | E1+R1 | A1 | Q1 | G1 | A1+R1
    note text not null
);

-- The four integrated industrial zones (产业集聚区) of CLUSTERS_100B, each two prefectures.
create table if not exists dim_indicator_zone (
    zone_code text not null,
    zone_name text not null,
    prefecture_code text not null,
    primary key (zone_code, prefecture_code)
);

-- Scratch: the measures (numerators, denominators) of a run, for the run's period and the 2010
-- baseline period, before values, targets and statuses are derived. Emptied by the run that fills it.
create table if not exists wrk_indicator_measure (
    run_period text not null,
    measure_period text not null,
    indicator_code text not null,
    level text not null,
    area_code text not null,
    value_rule text not null,         -- ratio | growth | sum | threshold
    numerator double precision,
    denominator double precision,
    numerator_comparable double precision,
    denominator_comparable double precision,
    numerator_last_year double precision,
    denominator_last_year double precision,
    reporters integer,
    primary key (run_period, measure_period, indicator_code, level, area_code)
);

-- Scratch of a computation, empty between runs: what each family query gives for a run and measure
-- period. level 'unit' rows (one enterprise, project or expected reporter, with its prefecture and
-- sector group) are rolled up by marts/indicators/rollup.sql; other rows are areas a family aggregated itself.
create table if not exists wrk_indicator_unit (
    run_period text not null,
    measure_period text not null,
    indicator_code text not null,
    level text not null,              -- unit | province | zone | chain
    area_code text,
    prefecture_code text,
    sector_group text,
    value_rule text not null,
    numerator double precision,
    denominator double precision,
    numerator_comparable double precision,
    denominator_comparable double precision,
    numerator_last_year double precision,
    denominator_last_year double precision,
    reporters integer
);
create index if not exists ix_wrk_indicator_unit_run on wrk_indicator_unit (run_period, measure_period);

-- Indicator facts (指标结果): one row per period, indicator, level and area, replaced as a whole for
-- the period by each run. level: province | prefecture | sector_group | zone | chain.
create table if not exists fct_indicator (
    period text not null,
    indicator_code text not null,
    level text not null,
    area_code text not null,          -- 620000, a prefecture code, a sector group, a zone code
    area_name text not null,
    value_rule text,                  -- how value derives from numerator and denominator (null: no data)
    value double precision,           -- null: no data (no reports, or a zero denominator)
    numerator double precision,
    denominator double precision,
    reporters integer,                -- enterprises / projects counted
    value_comparable double precision,        -- this period, enterprises that reported in both years
    numerator_comparable double precision,
    denominator_comparable double precision,
    value_same_period_last_year double precision, -- same period last year, same enterprises (上年同期, 可比口径)
    numerator_same_period_last_year double precision,
    denominator_same_period_last_year double precision,
    growth double precision,          -- % change of value_comparable on value_same_period_last_year
    baseline_2010 double precision,   -- the area's value of 2010-12 (year 2010), for linear paths
    target double precision,          -- the target of this period on the straight path to 2015
    target_2015 double precision,     -- the target at the end of the plan (2015-12)
    status text not null,             -- met | on_track | lagging | no_target | no_data
    data_period text,                 -- A1: the year's <YYYY>-12 used; G1: the snapshot in force; else null
    primary key (period, indicator_code, level, area_code)
);
create index if not exists ix_fct_indicator_code on fct_indicator (indicator_code, level, area_code, period);

-- Deliveries whose effect on the indicators has been taken into account (techreform.indicators.corrections):
-- a loaded file not listed here is a correction or a late delivery still to propagate to every computed
-- period whose indicators depend on its period.
create table if not exists ops_indicator_file (
    form text not null,
    period text not null,             -- the delivery folder's period
    file_sha256 text not null,
    applied_in text not null,         -- the run period whose recompute step took it into account
    primary key (form, period, file_sha256)
);
