-- Every (recipient, kind, region) that has had an e-mail of period (delivered or not).
with keys as (
    select distinct recipient, kind, region_code
    from sup_email_log
    where period = :period
)
select recipient, kind, region_code from keys order by kind, region_code, recipient
