-- Try to take the gate of a report period (session level, held only while a task checks who holds the
-- period and joins or is refused), so that two runs never both see the period free; the caller polls,
-- for a bounded time.
select pg_try_advisory_lock(:gate_class, :lock_period) as gated
