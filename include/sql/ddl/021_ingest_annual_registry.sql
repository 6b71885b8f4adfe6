-- Staging of the annual and registry forms (A1, Q1, G1; reporting-forms.md "Annual and registry forms"):
-- the lineage columns, then the form's fields in the order of techreform.forms (tests hold them to it).

create table if not exists stg_enterprise_annual (
    delivery_period text not null,    -- the folder's period: <YYYY>-12 for the year YYYY
    file_sha256 text not null,
    source_row integer not null,
    delivery_seq integer not null,
    raw_json text not null,           -- the row as received: {header: cell}
    uscc text,
    enterprise_name text,
    year double precision,            -- absent in the file: the folder's year
    tech_centre_level text,
    key_equipment_total double precision,
    key_equipment_domestic_adv double precision,
    key_equipment_intl_adv double precision,
    apc_in_use smallint,
    cax_in_use smallint,
    has_website smallint,
    ecommerce_regular smallint,
    digital_enterprise smallint,
    primary key (delivery_period, file_sha256, source_row)
);

create table if not exists stg_product_output (
    delivery_period text not null,
    file_sha256 text not null,
    source_row integer not null,
    delivery_seq integer not null,
    raw_json text not null,
    uscc text,
    enterprise_name text,
    period text,                      -- absent in the file: the folder's
    product_code text,                -- the code; a Chinese name is staged as its code
    quantity_t double precision,
    primary key (delivery_period, file_sha256, source_row)
);

create table if not exists stg_programme_registry (
    delivery_period text not null,
    file_sha256 text not null,
    source_row integer not null,
    delivery_seq integer not null,
    raw_json text not null,
    item_id text,
    item_type text,                   -- the code; a Chinese name is staged as its code
    name text,
    region_code text,
    level text,
    recognised text,
    revoked text,
    primary key (delivery_period, file_sha256, source_row)
);
