-- Enterprise names by USCC for period, of the enterprises asked for (an expanding list of codes, given
-- in chunks by techreform.warehouse.query_in): the register snapshot in force (preference 1),
-- else the latest E1 report up to the period (preference 2).
with registered as (
    select r.uscc, r.enterprise_name, 1 as preference
    from int_register_in_force as r
    where r.in_force_period = :period and r.uscc in :codes
),
reported as (
    select uscc, enterprise_name,
           row_number() over (partition by uscc order by period desc) as recency
    from fct_enterprise_monthly
    where period <= :period and uscc in :codes
)
select uscc, enterprise_name, preference from registered
union all
select uscc, enterprise_name, 2 as preference from reported where recency = 1
