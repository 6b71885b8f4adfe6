-- SQLite: the tables a file's slices are parsed into before the file is staged (techreform.ingest._stage),
-- in the connection's own TEMP database, so that parsing holds no lock on the warehouse: SQLite has one
-- write lock per database, and a file parsed inside its write transaction kept every other writer (another
-- form's ingest, a validation) waiting for the whole parse (docs/performance.md, round 20). Empty copies of
-- the form's staging table and of stg_parse_error: the same columns, the same types. Dropped first, in case
-- the pooled connection kept them from a file whose staging was interrupted.
-- Slot: {{ staging_table }} (the form's staging table, Form.staging_table).
drop table if exists temp.staged_aside;
drop table if exists temp.parse_errors_aside;
create temp table staged_aside as select * from main.{{ staging_table }} where 0;
create temp table parse_errors_aside as select * from main.stg_parse_error where 0;
