-- Projects of period by prefecture and light.
with lights as (
    select prefecture_code, prefecture_name, light, escalated
    from sup_project_light
    where period = :period
)
select prefecture_code, max(prefecture_name) as prefecture_name,
       sum(case when light = 'red' then 1 else 0 end) as red,
       sum(case when light = 'yellow' then 1 else 0 end) as yellow,
       sum(case when light = 'green' then 1 else 0 end) as green,
       sum(escalated) as escalated_now
from lights
group by prefecture_code
order by prefecture_code
