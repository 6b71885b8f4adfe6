-- Release every advisory lock of this session (the run's dedicated connection: the period, the run's key,
-- the step's lock).
select pg_advisory_unlock_all() is null as released
