-- A1-S02: each enterprise's technology-centre level in its A1 of the year before (the period
-- <YYYY-1>-12), as loaded.
select a.uscc, a.year as prev_year, a.tech_centre_level as prev_tech_centre_level
from fct_enterprise_annual as a
where a.period = :previous_period
