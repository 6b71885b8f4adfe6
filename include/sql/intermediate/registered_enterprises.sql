-- The register in force's entries of the enterprises asked for (an expanding list of codes, given in
-- chunks by techreform.warehouse.query_in), with their county's and prefecture's names: what
-- dq_missing_reporter keeps of each missing reporter.
select r.uscc, r.enterprise_name, r.region_code, c.name as county_name, r.prefecture_code,
       p.name as prefecture_name, r.contact_email
from int_register_in_force as r
left join dim_division as c on c.code = r.region_code
left join dim_division as p on p.code = r.prefecture_code
where r.in_force_period = :period and r.uscc in :codes
order by r.prefecture_code, r.uscc
