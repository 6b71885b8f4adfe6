-- Indicators by prefecture for the period and the month before: how many are lagging (滞后), met or on
-- track, per prefecture (the monthly report's ranking of the prefectures that lag most).
select
    f.period,
    f.area_code as prefecture_code,
    max(f.area_name) as prefecture_name,
    sum(case when f.status = 'lagging' then 1 else 0 end) as lagging,
    sum(case when f.status in ('met', 'on_track') then 1 else 0 end) as on_track,
    sum(case when f.status in ('met', 'on_track', 'lagging') then 1 else 0 end) as judged
from fct_indicator as f
where f.level = 'prefecture'
  and f.period in (:period, :previous)
group by f.period, f.area_code
order by f.period, f.area_code
