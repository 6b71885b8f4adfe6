-- Code lists of the contract, loaded from include/techreform/reference/ (copies of shared/reference/).

-- GB/T 2260 divisions of Gansu: province, 14 prefectures, counties, with validity (YYYY-MM, inclusive
-- from, exclusive to).
create table if not exists dim_division (
    code text primary key,
    name text not null,
    level text not null,              -- province | prefecture | county
    prefecture_code text,
    prefecture_name text,
    valid_from text,
    valid_to text,
    note text
);

-- Chinese labels of the codes the warehouse stores (statuses, severities, levels), loaded from
-- techreform.labels so that views, e-mails, receipts and the demo read one definition.
create table if not exists dim_label (
    kind text not null,               -- indicator_status | severity | level | review_status
    code text not null,
    label_zh text not null,
    primary key (kind, code)
);

-- The calendar of report months (1990-01 .. 2099-12), for the views of what is in force in a month.
-- The digest of the code lists, calendar and labels loaded above (techreform.reference.reference_digest):
-- they are rewritten only when the shipped ones changed.
create table if not exists ops_reference_version (
    digest text not null
);

create table if not exists dim_month (
    period text primary key           -- YYYY-MM
);

-- GB/T 4754-2011 divisions of sections B, C, D with the policy's sector groups (行业板块).
create table if not exists dim_industry (
    division text primary key,
    section text not null,
    name text not null,
    sector_group text not null
);
