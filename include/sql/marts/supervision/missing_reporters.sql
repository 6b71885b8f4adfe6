-- Missing E1 reporters (缺报) of period, from validation's completeness check.
with missing as (
    select uscc, enterprise_name, region_code, county_name, prefecture_code, prefecture_name
    from dq_missing_reporter
    where period = :period
)
select uscc, enterprise_name, region_code, county_name, prefecture_code, prefecture_name
from missing
order by prefecture_code, region_code, uscc
