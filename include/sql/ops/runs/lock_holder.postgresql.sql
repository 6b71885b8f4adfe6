-- Who holds the advisory lock of a report period: the session's application name (it names the run),
-- client and server process.
with holders as (
    select a.application_name, coalesce(a.client_hostname, host(a.client_addr), 'local') as client, a.pid,
           a.backend_start
    from pg_locks as l
    join pg_stat_activity as a on a.pid = l.pid
    where l.locktype = 'advisory' and l.granted
      and l.classid = :lock_class and l.objid = :lock_period and l.objsubid = 2
)
select application_name, client, pid, backend_start from holders
