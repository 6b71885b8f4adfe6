-- Claim a version for sending: its new content, status sending. Only a version that is unsent,
-- cancelled, or claimed by a run that died (sending since before stale_before) can be claimed; the
-- number of rows updated (0 or 1) says whether this run got it.
update sup_email_log
set digest = :digest, correction_of = :correction_of, subject = :subject, content_json = :content_json,
    status = 'sending', updated_at = :updated_at
where period = :period and recipient = :recipient and kind = :kind and region_code = :region_code
  and version = :version
  and (status in ('unsent', 'cancelled') or (status = 'sending' and updated_at < :stale_before))
