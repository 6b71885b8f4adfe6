-- Facts of the annual and registry forms: the current accepted row of each key.

-- A1 两化融合与技术装备年报: one row per enterprise and year, in the period <YYYY>-12 of its folder.
create table if not exists fct_enterprise_annual (
    period text not null,             -- <YYYY>-12, the delivery folder's
    uscc text not null,
    enterprise_name text not null,
    year bigint not null,
    tech_centre_level text not null,  -- 无 | 市级 | 省级 | 国家级
    key_equipment_total bigint not null,
    key_equipment_domestic_adv bigint not null,
    key_equipment_intl_adv bigint not null,
    apc_in_use smallint not null,
    cax_in_use smallint not null,
    has_website smallint not null,
    ecommerce_regular smallint not null,
    digital_enterprise smallint not null,
    prefecture_code text not null,
    review_status text not null,
    soft_rule_ids text not null,
    file_sha256 text not null,
    source_row integer not null,
    primary key (period, uscc, year)
);
create index if not exists ix_fct_enterprise_annual_uscc on fct_enterprise_annual (uscc, period);

-- Q1 重点产品产量月报: year-to-date tonnes per enterprise, product and month.
create table if not exists fct_product_output (
    period text not null,
    uscc text not null,
    enterprise_name text not null,
    product_code text not null,
    quantity_t double precision not null,
    prefecture_code text not null,
    review_status text not null,
    soft_rule_ids text not null,
    file_sha256 text not null,
    source_row integer not null,
    primary key (period, uscc, product_code)
);
create index if not exists ix_fct_product_output_uscc on fct_product_output (uscc, product_code, period);

-- G1 平台与示范认定名录: every accepted snapshot, in force from its month until the next (as R1; the
-- view int_programme_in_force, ddl/070_in_force.sql).
create table if not exists dim_programme_item (
    snapshot_period text not null,
    item_id text not null,
    item_type text not null,
    name text not null,
    region_code text not null,
    level text not null,
    recognised text not null,
    revoked text,
    prefecture_code text not null,    -- '' for an item of the province itself
    primary key (snapshot_period, item_type, item_id)
);
