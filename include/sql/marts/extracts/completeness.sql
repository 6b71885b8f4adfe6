-- The E1 reporting rate (报送率) per prefecture of a period, for the bureau's quality table (the row
-- counts beside it are the run summary's, marts/reports/form_prefecture_counts.sql).
select prefecture_code, expected as expected_reporters, received as reporting_enterprises,
       rate * 100 as reporting_rate
from dq_completeness
where period = :period
