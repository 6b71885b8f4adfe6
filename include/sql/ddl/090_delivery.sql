-- Instant review on delivery (docs/delivery.md): what the delivery DAG has seen in the landing folders,
-- and the results of each check of a (form, period) with what they were checked against.

-- One row per landing entry (file, or link/special entry refused unread) at one modification time:
-- the watcher's trigger reports entries not in here; the delivery DAG adds them once reviewed.
create table if not exists dlv_landing_seen (
    form text not null,
    period text not null,
    entry_name text not null,
    mtime_ns bigint not null,
    kind text not null,               -- file | symlink | directory | ... (techreform.landing)
    file_sha256 text not null,        -- '' for an entry refused unread
    status text not null,             -- loaded | unchanged | rejected | refused (techreform.ingest)
    reviewed_at text not null,        -- UTC, ISO 8601
    primary key (form, period, entry_name, mtime_ns)
);
-- every poll reads the recent periods' rows of every form (ops/reviews/landing_seen_since.sql)
create index if not exists dlv_landing_seen_period on dlv_landing_seen (period);

-- The latest check (GX suite run) of a form and period: its fingerprint (the staged rows, the context
-- they were checked against, the suite and options) and the suite's results, for reuse by the month's
-- run and by the next delivery (techreform.validation.reuse).
create table if not exists dq_review_check (
    form text not null,
    period text not null,
    fingerprint text not null,
    rows_digest text not null,
    context_digest text not null,
    suite_digest text not null,
    files text not null,              -- the staged files' sha256, comma-separated, in delivery order
    checked_at text not null,         -- UTC, ISO 8601
    result_json text not null,        -- the suite's failures by (position, rule) and its rule counts
    primary key (form, period)
);
