-- Validation (审核): what each rule found, per row and per (form, period); explanations (核实说明);
-- completeness (报送率) and missing reporters (缺报).

-- Per form, period and rule: rows the rule was evaluated on and rows that broke it. Replaced as a whole
-- for (form, period) by each run of the period (GX 1.x keeps no results in a database of its own).
create table if not exists dq_rule_result (
    form text not null,               -- E1, P1, R1
    period text not null,             -- the delivery folder's period
    rule_id text not null,            -- E1-H01, ...
    severity text not null,           -- hard | soft
    evaluated integer not null,
    failed integer not null,
    primary key (form, period, rule_id)
);

-- One row per (input row, rule broken), with the Chinese message for the reporting unit and the values
-- as received. Source of the review receipts (审核回执).
create table if not exists dq_row_failure (
    form text not null,
    period text not null,
    file_sha256 text not null,
    file_name text not null,
    source_row integer not null,
    record_key text not null,         -- uscc / project_code as received ('' if absent)
    unit_name text not null,          -- enterprise or project name as received ('' if absent)
    prefecture_code text not null,    -- from region_code, else from the uscc's division, else ''
    rule_id text not null,
    severity text not null,           -- hard | soft
    field text not null,              -- canonical field names, comma-separated
    message text not null,            -- Chinese, naming field, values and rule
    received_json text not null,      -- {field label: cell as received} for the fields of the rule
    explained smallint not null,      -- 1: a matching explanation (核实说明) exists (soft only)
    primary key (form, period, file_sha256, source_row, rule_id)
);

-- Explanations (核实说明) delivered under landing/explanations/<YYYY-MM>/, one row per delivered row.
-- A soft failure of (record_key, period, rule_id) is explained when a row here matches it.
create table if not exists dim_explanation (
    delivery_period text not null,    -- the folder the file landed in
    file_name text not null,
    source_row integer not null,
    form text not null,               -- E1 (keyed by uscc) | P1 (keyed by project_code)
    record_key text not null,
    period text not null,             -- the report period explained
    rule_id text not null,
    explanation text not null,
    confirmed_by text not null,
    primary key (delivery_period, file_name, source_row)
);

-- Completeness (报送率) of E1 per prefecture (and 620000 for the province): expected reporters from
-- the register in force (above-scale and operating), received = expected ones with any E1 row.
create table if not exists dq_completeness (
    period text not null,
    prefecture_code text not null,
    prefecture_name text not null,
    expected integer not null,
    received integer not null,
    missing integer not null,
    rate double precision,            -- received / expected; null when nobody is expected
    primary key (period, prefecture_code)
);

-- Missing reporters (缺报): expected in the period, no E1 row received. Not data errors.
create table if not exists dq_missing_reporter (
    period text not null,
    uscc text not null,
    enterprise_name text not null,
    region_code text not null,
    county_name text,
    prefecture_code text not null,
    prefecture_name text,
    contact_email text,
    primary key (period, uscc)
);
