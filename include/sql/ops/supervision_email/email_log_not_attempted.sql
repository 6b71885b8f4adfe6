-- A version that stays unsent without an attempt this run (the server was unreachable).
update sup_email_log
set status = 'unsent', last_error = :last_error, updated_at = :updated_at
where period = :period and recipient = :recipient and kind = :kind and region_code = :region_code
  and version = :version
