-- Take the advisory lock of a report period without waiting (session level, on the run's own
-- connection): true when this session now holds it.
select pg_try_advisory_lock(:lock_class, :lock_period) as locked
