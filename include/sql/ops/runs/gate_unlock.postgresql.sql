-- Leave the gate of a report period.
select pg_advisory_unlock(:gate_class, :lock_period) as released
