-- Completeness of a form whose reporters are those that reported it before (Q1: techreform.forms
-- Form.expected_reporters = 'previous_reporters'), per prefecture and for the province, and its missing
-- reporters (缺报). E1's completeness is dq_completeness (expected from the register).
create table if not exists dq_form_completeness (
    form text not null,
    period text not null,
    prefecture_code text not null,
    prefecture_name text not null,
    expected integer not null,
    received integer not null,
    missing integer not null,
    rate double precision,            -- received / expected; null when nobody is expected
    primary key (form, period, prefecture_code)
);

create table if not exists dq_form_missing_reporter (
    form text not null,
    period text not null,
    uscc text not null,
    enterprise_name text not null,
    prefecture_code text not null,
    contact_email text,
    primary key (form, period, uscc)
);
