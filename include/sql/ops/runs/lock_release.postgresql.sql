-- Release the advisory lock of a report period held by this session.
select pg_advisory_unlock(:lock_class, :lock_period) as released
