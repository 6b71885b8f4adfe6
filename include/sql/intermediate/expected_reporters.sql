-- Completeness (报送率): the enterprises expected to report E1 in the period: those the register in
-- force lists as above-scale (规模以上) and operating (在营), with their county and prefecture.
with expected as (
    select r.uscc, r.enterprise_name, r.region_code, r.prefecture_code, r.contact_email
    from int_register_in_force as r
    where r.in_force_period = :period
      and r.above_scale = 1 and r.operating_status = '在营'
)
select e.uscc, e.enterprise_name, e.region_code, c.name as county_name, e.prefecture_code,
       p.name as prefecture_name, e.contact_email
from expected as e
left join dim_division as c on c.code = e.region_code
left join dim_division as p on p.code = e.prefecture_code
order by e.prefecture_code, e.uscc
