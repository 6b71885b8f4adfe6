-- Unsent e-mails of a (period, recipient, kind, region) whose content no longer needs to go out.
update sup_email_log
set status = 'cancelled', updated_at = :updated_at
where period = :period and recipient = :recipient and kind = :kind and region_code = :region_code
  and status = 'unsent'
