-- The warehouse lives beside Airflow's metadata in the same server, in its own database and role.
create role techreform login password 'techreform';
create database techreform owner techreform;
