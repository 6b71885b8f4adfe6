-- The warehouse lives beside Airflow's metadata in the same server, in its own database and role.
-- Run by the compose service warehouse-init on every start:
--   psql -v warehouse_role=techreform -v warehouse_database=techreform -v warehouse_password=… -f …
-- Idempotent: it creates what is missing and brings the role's password in line with .env.
select format('create role %I login password %L', :'warehouse_role', :'warehouse_password')
where not exists (select from pg_roles where rolname = :'warehouse_role') \gexec
select format('alter role %I with login password %L', :'warehouse_role', :'warehouse_password') \gexec
select format('create database %I owner %I', :'warehouse_database', :'warehouse_role')
where not exists (select from pg_database where datname = :'warehouse_database') \gexec
