-- An e-mail about to go out again (unsent or cancelled before): its new content, status unsent.
update sup_email_log
set digest = :digest, correction_of = :correction_of, subject = :subject, content_json = :content_json,
    status = 'unsent', updated_at = :updated_at
where period = :period and recipient = :recipient and kind = :kind and region_code = :region_code
  and version = :version and status in ('unsent', 'cancelled')
