-- PostgreSQL only (techreform.warehouse.refresh_statistics): which of the tables :names (plain names on
-- the search path), in each of which the caller's transaction inserted, updated or deleted :changed_rows
-- rows, have statistics the change made stale: more rows than autovacuum's own rule allows
-- (autovacuum_analyze_threshold plus autovacuum_analyze_scale_factor times the rows the last ANALYZE
-- counted: 50 + 10 % at the server's defaults), or :rows_at_most of them whatever the table's size (a
-- month's rows are a new period the statistics of a year of history do not know, and the statements after
-- the load filter on it), or a table never analysed (reltuples -1).
select c.relname as table_name
from pg_class as c
where c.oid in (select to_regclass(t) from unnest(cast(:names as text[])) as t)
    and (
        c.reltuples < 0
        or :changed_rows >= least(
            :rows_at_most,
            current_setting('autovacuum_analyze_threshold')::float8
            + current_setting('autovacuum_analyze_scale_factor')::float8 * c.reltuples
        )
    )
order by c.relname
