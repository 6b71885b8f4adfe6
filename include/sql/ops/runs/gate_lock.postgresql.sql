-- Wait for the gate of a report period (session level, held only while a task checks who holds the
-- period and joins or is refused), so that two runs never both see the period free.
select pg_advisory_lock(:gate_class, :lock_period) is not null as gated
