-- Missing reporters (缺报) of a period, by prefecture.
with missing as (
    select uscc, enterprise_name, region_code, county_name, prefecture_code, prefecture_name, contact_email
    from dq_missing_reporter
    where period = :period
)
select * from missing
order by prefecture_code, region_code, uscc
