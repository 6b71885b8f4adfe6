-- Take the exclusive lock of one step (or form) of a report period without waiting: true when this
-- session now holds it (a second attempt of the same task, still running somewhere, holds it otherwise).
select pg_try_advisory_lock(:step_class, :step_key) as locked
