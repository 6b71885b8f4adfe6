-- Who holds the lock of one step of a report period: the session's application name, client and pid.
select a.application_name, coalesce(a.client_hostname, host(a.client_addr), 'local') as client, a.pid,
       a.backend_start
from pg_locks as l
join pg_stat_activity as a on a.pid = l.pid
where l.locktype = 'advisory' and l.granted
      and l.database = (select oid from pg_database where datname = current_database())
  and l.classid = :step_class and l.objid = :step_key and l.objsubid = 2
