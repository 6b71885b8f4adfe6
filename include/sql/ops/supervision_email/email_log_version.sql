-- One version of the e-mail of a (period, recipient, kind, region), with the claim on it.
with entry as (
    select period, recipient, kind, region_code, version, digest, status, attempts, updated_at, claim_owner,
           claim_host, claim_pid, claim_until
    from sup_email_log
    where period = :period and recipient = :recipient and kind = :kind and region_code = :region_code
      and version = :version
)
select period, recipient, kind, region_code, version, digest, status, attempts, updated_at, claim_owner,
       claim_host, claim_pid, claim_until
from entry
