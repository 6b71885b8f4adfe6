-- Extracts for the statistics bureau (统计局): the revisions delivered, and the notification e-mails
-- sent for them (exactly once per period, revision and recipient). The store itself is the truth of
-- which revisions exist (a revision exists when its manifest.json does); ext_revision records them
-- for people and for the e-mails.

create table if not exists ext_revision (
    period text not null,
    revision integer not null,
    location text not null,           -- URL of extracts/<YYYY-MM>/r<N>/
    content_sha256 text not null,     -- digest of the tables' content (independent of creation time)
    manifest_sha256 text not null,    -- sha256 of the bytes of manifest.json
    created_at text not null,         -- UTC, ISO 8601, as in the manifest
    primary key (period, revision)
);

-- status: sending (claimed by a run), sent (accepted by the SMTP server), written (.eml in the outbox),
-- unsent (not accepted; the next run retries).
create table if not exists ext_email_log (
    period text not null,
    revision integer not null,
    recipient text not null,
    manifest_sha256 text not null,
    status text not null,
    attempts integer not null,
    last_error text not null,
    message_id text not null,
    outbox_path text,
    updated_at text not null,
    primary key (period, revision, recipient)
);
