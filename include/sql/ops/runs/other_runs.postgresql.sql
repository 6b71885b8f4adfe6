-- Sessions holding the report period in this database (advisory locks are per database; pg_locks shows
-- every database's) that are not tasks of this run (they do not hold the run's key):
-- another run of the period, by its session's application name (it names the run), client and pid.
with period_holders as (
    select l.pid
    from pg_locks as l
    where l.locktype = 'advisory' and l.granted
      and l.database = (select oid from pg_database where datname = current_database())
      and l.classid = :lock_class and l.objid = :lock_period and l.objsubid = 2
), run_members as (
    select l.pid
    from pg_locks as l
    where l.locktype = 'advisory' and l.granted
      and l.database = (select oid from pg_database where datname = current_database())
      and l.classid = :owner_class and l.objid = :owner_key and l.objsubid = 2
)
select a.application_name, coalesce(a.client_hostname, host(a.client_addr), 'local') as client, a.pid,
       a.backend_start
from period_holders as h
join pg_stat_activity as a on a.pid = h.pid
where h.pid not in (select pid from run_members)
order by a.backend_start
