-- The outcome of an attempt to send an e-mail of a revision.
update ext_email_log
set status = :status,
    attempts = attempts + 1,
    last_error = :last_error,
    message_id = :message_id,
    outbox_path = :outbox_path,
    updated_at = :updated_at
where period = :period and revision = :revision and recipient = :recipient
