-- Supervision lights by prefecture for the period and the month before (the report's lights table and
-- what changed since last month).
select period, prefecture_code, max(prefecture_name) as prefecture_name,
       sum(case when light = 'red' then 1 else 0 end) as red,
       sum(case when light = 'yellow' then 1 else 0 end) as yellow,
       sum(case when light = 'green' then 1 else 0 end) as green,
       sum(escalated) as escalated
from sup_project_light
where period in (:period, :previous)
group by period, prefecture_code
order by period, prefecture_code
