-- Claim a version for sending: its new content, status sending, and who holds the claim (owner token,
-- host, pid) until when (the lease). Only a version that is unsent, cancelled, written to the outbox when
-- a server is now configured (resend_written = 1), or sending under a claim this run found dead (its
-- owner = takeover_owner; '' for a claim of before owners were recorded) can be claimed; the number of
-- rows updated (0 or 1) says whether this run got it.
update sup_email_log
set digest = :digest, correction_of = :correction_of, subject = :subject, content_json = :content_json,
    status = 'sending', updated_at = :updated_at, claim_owner = :claim_owner, claim_host = :claim_host,
    claim_pid = :claim_pid, claim_until = :claim_until
where period = :period and recipient = :recipient and kind = :kind and region_code = :region_code
  and version = :version
  and (status in ('unsent', 'cancelled')
       or (status = 'written' and :resend_written = 1)
       or (status = 'sending' and coalesce(claim_owner, '') = :takeover_owner))
