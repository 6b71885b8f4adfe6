-- Province-level indicators of the period against their targets (from the indicator system). The
-- indicators derived from supervision itself (family supervision_*, e.g. PROJECT_RED) are left out: they
-- are refreshed after the e-mails and repeat the summary's own counts, and reading them would make a
-- re-run's content differ from the first run's.
with province as (
    select f.indicator_code, f.value, f.target, f.target_2015, f.status
    from fct_indicator as f
    where f.period = :period and f.level = 'province'
)
select p.indicator_code as code, d.name_zh, d.unit, p.value, p.target, p.target_2015, p.status, d.sort_order
from province as p
join dim_indicator as d on d.code = p.indicator_code
where d.family not like 'supervision%'
order by d.sort_order, p.indicator_code
