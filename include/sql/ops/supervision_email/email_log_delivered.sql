-- The delivered (sent or written) versions of the e-mail of a (period, recipient, kind, region),
-- latest first (the caller picks the statuses that count as delivered for where it sends).
with delivered as (
    select period, recipient, kind, region_code, version, digest, subject, content_json, status, message_id,
           outbox_path
    from sup_email_log
    where period = :period and recipient = :recipient and kind = :kind and region_code = :region_code
      and status in ('sent', 'written')
)
select period, recipient, kind, region_code, version, digest, subject, content_json, status, message_id,
       outbox_path
from delivered
order by version desc
