-- The periods the monitoring view can show: every period with indicators, lights or completeness.
select period from fct_indicator
union
select period from sup_run
union
select period from dq_completeness
order by period desc
