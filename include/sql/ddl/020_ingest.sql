-- Ingestion: what arrived (file log), every parsed row (staging), and the outcome of every input row.

-- One row per distinct file (by content) received for a form and period. The same bytes delivered
-- again change nothing; delivery_seq orders deliveries (a later one supersedes earlier rows by key).
create table if not exists etl_file_log (
    form text not null,               -- E1, P1, R1, S1
    period text not null,             -- the delivery folder's period, YYYY-MM
    file_sha256 text not null,
    file_name text not null,
    raw_path text not null,           -- the unchanged copy in the raw zone
    bytes bigint not null,
    received_at text not null,        -- when the pipeline first saw these bytes (UTC, ISO 8601)
    delivery_seq integer not null,    -- 1, 2, ... in order of arrival within (form, period)
    encoding text,                    -- utf-8, utf-8-sig, gb18030, xlsx
    status text not null,             -- loaded | rejected
    rows_received integer not null,   -- data rows in the file (0 for a rejected file)
    extra_columns text not null,      -- headers that are not fields of the form (ignored, reported)
    message text not null,            -- why a file was rejected, or ''
    primary key (form, period, file_sha256),
    unique (form, period, delivery_seq) -- two runs racing for the same period fail instead of tying
);

-- Entries of a delivery folder that are not regular files (symbolic links, directories, FIFOs, devices,
-- sockets), or files that cannot be opened: refused unread, so they have no sha256 and no raw-zone copy;
-- one row per entry name and kind.
create table if not exists etl_refused_entry (
    form text not null,
    period text not null,
    entry_name text not null,         -- the name as shown (non-UTF-8 bytes as GB18030 or \xNN)
    kind text not null,               -- symlink | directory | fifo | device | socket | other | unreadable
    first_seen_at text not null,      -- UTC, ISO 8601
    message text not null,            -- why it was refused (Chinese and English, one line)
    primary key (form, period, entry_name, kind)
);

-- Every received row that parsed, typed, per form. Rows of all deliveries stay (history); the load
-- step decides which one is current for each key.
create table if not exists stg_enterprise_monthly (
    delivery_period text not null,
    file_sha256 text not null,
    source_row integer not null,      -- the row as a spreadsheet numbers it (header = 1)
    delivery_seq integer not null,
    raw_json text not null,           -- the row as received: {header: cell}
    uscc text,
    enterprise_name text,
    region_code text,
    industry_code text,
    period text,
    gross_output double precision,
    value_added double precision,
    revenue double precision,
    profit double precision,
    employees double precision,       -- integer-ness is checked by rule E1-H07
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
    primary key (delivery_period, file_sha256, source_row)
);

create table if not exists stg_project_monthly (
    delivery_period text not null,
    file_sha256 text not null,
    source_row integer not null,
    delivery_seq integer not null,
    raw_json text not null,           -- the row as received: {header: cell}
    project_code text,
    project_name text,
    uscc text,
    region_code text,
    industry_code text,
    key_project smallint,
    planned_total_investment double precision,
    planned_start text,
    planned_completion text,
    actual_start text,
    actual_completion text,
    annual_plan_investment double precision,
    ytd_investment double precision,
    cumulative_investment double precision,
    status text,
    subsidy double precision,
    remarks text,
    period text,
    primary key (delivery_period, file_sha256, source_row)
);

create table if not exists stg_enterprise_register (
    delivery_period text not null,
    file_sha256 text not null,
    source_row integer not null,
    delivery_seq integer not null,
    raw_json text not null,           -- the row as received: {header: cell}
    uscc text,
    enterprise_name text,
    region_code text,
    industry_code text,
    scale text,
    above_scale smallint,
    key_enterprise smallint,
    emerging_industry smallint,
    process_backbone smallint,
    operating_status text,
    contact_email text,
    primary key (delivery_period, file_sha256, source_row)
);

create table if not exists stg_supervisors (
    delivery_period text not null,
    file_sha256 text not null,
    source_row integer not null,
    delivery_seq integer not null,
    raw_json text not null,           -- the row as received: {header: cell}
    region_code text,
    name text,
    email text,
    role text,
    primary key (delivery_period, file_sha256, source_row)
);

-- Rows whose cells could not be read as their type (rule <CODE>-H00), found while parsing a file.
create table if not exists stg_parse_error (
    form text not null,
    delivery_period text not null,
    file_sha256 text not null,
    source_row integer not null,
    delivery_seq integer not null,
    record_key text not null,
    raw_json text not null,
    fields text not null,             -- canonical names of the cells that did not parse, comma-separated
    messages text not null,           -- Chinese, '；'-separated
    primary key (form, delivery_period, file_sha256, source_row)
);

-- Rows that cannot be used: the row as received, where it came from, every rule it broke.
-- superseded = 1 once a later delivery carried the same key (the row needs no correction any more).
create table if not exists quarantine (
    form text not null,
    period text not null,
    file_sha256 text not null,
    file_name text not null,
    source_row integer not null,
    record_key text not null,         -- uscc / project_code as received ('' if absent)
    prefecture_code text,
    row_json text not null,           -- {header as received: cell as received}
    rule_ids text not null,           -- sorted, comma-separated
    fields text not null,             -- canonical names of the offending fields, comma-separated
    messages text not null,           -- Chinese, for the reporting unit, '；'-separated
    superseded smallint not null,
    primary key (form, period, file_sha256, source_row)
);

-- The outcome of every input row: accepted or quarantined (input rows = accepted + quarantined).
-- An accepted row that a later delivery replaced stays accepted with superseded = 1.
create table if not exists etl_row_outcome (
    form text not null,
    period text not null,
    file_sha256 text not null,
    source_row integer not null,
    record_key text not null,
    prefecture_code text,
    outcome text not null,            -- accepted | quarantined
    review_status text not null,      -- ok | query | explained | quarantined
    rule_ids text not null,           -- every rule broken, hard and soft, sorted, comma-separated
    superseded smallint not null,
    primary key (form, period, file_sha256, source_row)
);
