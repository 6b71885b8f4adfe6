-- Supervision (督促检查): lights of every supervised project per period, supervision cases (督办事项)
-- with their periods, and the log of every e-mail sent or written (exactly once per period, recipient
-- and kind).

-- One row per supervised period: marks the period as judged (cases close on the first judged period
-- after their last flagged one) and keeps the counts by light.
create table if not exists sup_run (
    period text primary key,
    projects integer not null,
    green integer not null,
    yellow integer not null,
    red integer not null,
    escalated integer not null
);

-- The light (灯色) of every project under supervision in a period, with every rule that fired.
create table if not exists sup_project_light (
    period text not null,
    project_code text not null,
    project_name text not null,
    uscc text not null,
    enterprise_name text not null,
    region_code text not null,
    county_name text not null,
    prefecture_code text not null,
    prefecture_name text not null,
    key_project smallint not null,
    annual_plan_investment double precision,
    ytd_investment double precision,
    lag_pp double precision,          -- schedule lag L in percentage points (null when not applicable)
    light text not null,              -- green | yellow | red
    reasons text not null,            -- fired rules, sorted, ';'-joined ('' for green)
    detail text not null default '',  -- what each fired rule saw, Chinese, '；'-joined (file and row of a quarantined one)
    escalated smallint not null,      -- 1: red and (red in the previous periods too, or a key project)
    source text not null,             -- accepted | quarantined | missing (the row the light is judged on)
    primary key (period, project_code)
);
create index if not exists ix_sup_project_light_code on sup_project_light (project_code, period);
create index if not exists ix_sup_project_light_pref on sup_project_light (period, prefecture_code);

-- A supervision case: one run of consecutive flagged (yellow/red) periods of a project.
-- case_id = '<project_code>/<opened_period>', so a re-run can never make a second case.
create table if not exists sup_case (
    case_id text primary key,
    project_code text not null,
    opened_period text not null,
    last_flagged_period text not null,
    closed_period text,               -- the first judged period after the run (null while open)
    closed_reason text,               -- green | left_supervision (null while open)
    status text not null,             -- open | closed
    periods integer not null,         -- flagged periods in the case
    worst_light text not null,
    escalated smallint not null,
    escalated_period text,            -- first period the case escalated to the province (升级督办)
    unique (project_code, opened_period)
);

-- The light and reasons of a case in every period it was flagged.
create table if not exists sup_case_period (
    case_id text not null,
    period text not null,
    project_code text not null,
    light text not null,
    reasons text not null,
    escalated smallint not null,      -- the case is escalated as of this period
    months_open integer not null,     -- periods since it opened, this one included
    primary key (case_id, period)
);
create index if not exists ix_sup_case_period_period on sup_case_period (period, project_code);

-- The claim_* columns came later: an existing warehouse gets them from create_schema
-- (techreform.warehouse.ADDED_COLUMNS, alter table … add column, idempotent).
-- Every e-mail of a period to a recipient, per kind (prefecture | province) and region: version 1 is
-- the original, versions 2.. are corrections (更正). status: sending (claimed by a run, being sent),
-- unsent (not accepted yet, retried by the next run), sent (the SMTP server accepted it), written (.eml
-- in the outbox), cancelled (an unsent message whose content no longer needs to go out).
create table if not exists sup_email_log (
    period text not null,
    recipient text not null,
    kind text not null,
    region_code text not null,
    version integer not null,
    digest text not null,             -- sha256 of the content (rows and counts), not of the bytes
    correction_of text,               -- digest of the version it corrects
    subject text not null,
    content_json text not null,       -- the content the digest is of, to say what changed next time
    status text not null,
    attempts integer not null,
    last_error text not null,
    message_id text not null,
    outbox_path text,
    updated_at text not null,         -- UTC, ISO 8601
    claim_owner text,                 -- the run holding the claim (random token per notify); null before claims had owners
    claim_host text,                  -- its host …
    claim_pid integer,                -- … and process: a claim whose process is gone is taken over at once
    claim_until text,                 -- the lease: after it (UTC, ISO 8601) the claim is taken over from any host
    primary key (period, recipient, kind, region_code, version)
);
