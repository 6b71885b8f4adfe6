-- The outcome of one attempt to deliver a version: delivered (sent | written) or still unsent.
update sup_email_log
set status = :status, attempts = attempts + 1, last_error = :last_error, message_id = :message_id,
    outbox_path = :outbox_path, updated_at = :updated_at
where period = :period and recipient = :recipient and kind = :kind and region_code = :region_code
  and version = :version
