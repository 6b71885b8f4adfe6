-- County-level division → its prefecture (for rows whose region_code is a known division).
select code as region_code, prefecture_code
from dim_division
where level = 'county'
