-- Intermediate layer: whether a month's load has decided each logged file (its receipt is the month's, the
-- indicators must take it into account): a file with row outcomes, or a file with no rows once its
-- period has outcomes. Used by the corrections' pending files, the instant review's decided files and the
-- periods with files not loaded yet, so that the rule is written once.
-- Each test reads the first key of etl_row_outcome's primary key (form, period, file_sha256, source_row)
-- through a scalar subquery ordered by that key. Written as "exists (…)", PostgreSQL flattens the
-- subquery, drops any order by, and estimates that a sequential scan finds a file's first row early;
-- rows lie in file order, so it read through every earlier file's rows, for every file: 0.8–2.8 s for a
-- national month's 30 files against 1 ms through the key (docs/performance.md, round 24).
-- Dropped and created on every schema check, which both PostgreSQL and SQLite run.
drop view if exists int_file_decision;

create view int_file_decision as
with by_file as (
    select
        f.form,
        f.period,
        f.file_sha256,
        f.status,
        f.rows_received,
        (
            select o.source_row from etl_row_outcome as o
            where o.form = f.form and o.period = f.period and o.file_sha256 = f.file_sha256
            order by o.source_row
            limit 1
        ) is not null as has_outcomes,
        (
            select o.file_sha256 from etl_row_outcome as o
            where o.form = f.form and o.period = f.period
            order by o.file_sha256, o.source_row
            limit 1
        ) is not null as period_has_outcomes
    from etl_file_log as f
)
select
    form,
    period,
    file_sha256,
    status,
    rows_received,
    has_outcomes,
    has_outcomes or (rows_received = 0 and period_has_outcomes) as decided
from by_file;
