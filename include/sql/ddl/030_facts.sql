-- Warehouse facts: the current accepted row of each key, with its review status (审核状态).

create table if not exists fct_enterprise_monthly (
    period text not null,
    uscc text not null,
    enterprise_name text not null,
    region_code text not null,
    prefecture_code text not null,
    industry_code text not null,
    gross_output double precision,
    value_added double precision,
    revenue double precision,
    profit double precision,
    employees bigint,
    rd_expense double precision,
    new_product_output double precision,
    techreform_investment double precision,
    energy_tce double precision,
    water_m3 double precision,
    solid_waste_generated double precision,
    solid_waste_utilized double precision,
    purchase_total double precision,
    ecommerce_purchase double precision,
    ecommerce_sales double precision,
    review_status text not null,      -- ok | query (待核实) | explained (已说明); labels: techreform.labels
    soft_rule_ids text not null,      -- soft rules broken, sorted, comma-separated
    file_sha256 text not null,
    source_row integer not null,
    primary key (period, uscc)
);
create index if not exists ix_fct_enterprise_monthly_uscc on fct_enterprise_monthly (uscc, period);

create table if not exists fct_project_monthly (
    period text not null,
    project_code text not null,
    project_name text not null,
    uscc text not null,
    region_code text not null,
    prefecture_code text not null,
    industry_code text not null,
    key_project smallint not null,
    planned_total_investment double precision,
    planned_start text,
    planned_completion text,
    actual_start text,
    actual_completion text,
    annual_plan_investment double precision,
    ytd_investment double precision,
    cumulative_investment double precision,
    status text not null,
    subsidy double precision,
    remarks text,
    review_status text not null,
    soft_rule_ids text not null,
    file_sha256 text not null,
    source_row integer not null,
    primary key (period, project_code)
);
create index if not exists ix_fct_project_monthly_code on fct_project_monthly (project_code, period);

-- The enterprise register (企业名录): every accepted snapshot. The snapshot of month M is in force
-- from M until the next snapshot (the view int_register_in_force, ddl/070_in_force.sql).
create table if not exists dim_enterprise_register (
    snapshot_period text not null,
    uscc text not null,
    enterprise_name text not null,
    region_code text not null,
    prefecture_code text not null,
    industry_code text not null,
    scale text not null,
    above_scale smallint not null,
    key_enterprise smallint not null,
    emerging_industry smallint not null,
    process_backbone smallint not null,
    operating_status text not null,
    contact_email text,
    primary key (snapshot_period, uscc)
);

-- Supervisors (督办联系人, S1): every accepted snapshot, in force like the register.
create table if not exists dim_supervisor (
    snapshot_period text not null,
    region_code text not null,
    name text not null,
    email text not null,
    role text,
    primary key (snapshot_period, region_code, email)
);
