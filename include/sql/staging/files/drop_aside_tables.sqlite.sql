-- SQLite: the TEMP tables of aside_tables.sqlite.sql, dropped once the file is staged or rejected.
drop table if exists temp.staged_aside;
drop table if exists temp.parse_errors_aside;
