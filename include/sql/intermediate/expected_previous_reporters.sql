-- Completeness of a form reported by those that reported it before (Q1): the enterprises with an accepted
-- row of the form ({{ target_table }}) in the twelve months before the period (since <= month < period)
-- that the register in force lists as above-scale and operating (在营), with their prefecture.
with earlier as (
    select distinct f.uscc
    from {{ target_table }} as f
    where f.period < :period and f.period >= :since
)
select r.uscc, r.enterprise_name, r.prefecture_code, r.contact_email
from earlier as e
join int_register_in_force as r on r.uscc = e.uscc
where r.in_force_period = :period and r.above_scale = 1 and r.operating_status = '在营'
order by r.prefecture_code, r.uscc
