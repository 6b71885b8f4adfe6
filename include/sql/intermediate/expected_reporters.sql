-- Completeness (报送率): the enterprises expected to report E1 in the period: those the register in
-- force lists as above-scale (规模以上) and operating (在营), with their prefecture; only what is counted
-- (half a million rows at a national month). The few found missing are looked up with their names,
-- county and contact in registered_enterprises.sql.
select r.uscc, r.prefecture_code
from int_register_in_force as r
where r.in_force_period = :period
  and r.above_scale = 1 and r.operating_status = '在营'
order by r.prefecture_code, r.uscc
