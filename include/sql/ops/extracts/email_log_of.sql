-- The e-mail log of one revision and recipient (none, or one row).
with log as (
    select period, revision, recipient, manifest_sha256, status, attempts, last_error, message_id, outbox_path
    from ext_email_log
    where period = :period and revision = :revision and recipient = :recipient
)
select * from log
