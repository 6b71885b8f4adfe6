-- Hold the period (shared: every task of the run holding it) and mark this session as one of the run's
-- (shared, keyed by the run): true when both are held. Taken under the period's gate.
select pg_try_advisory_lock_shared(:lock_class, :lock_period)
       and pg_try_advisory_lock_shared(:owner_class, :owner_key) as joined
