-- Gate: the province's completeness (报送率) of E1 for the period.
with province as (
    select expected, received, missing, rate
    from dq_completeness
    where period = :period and prefecture_code = :province_code
)
select expected, received, missing, rate from province
