-- SQLite: a file's rows that did not parse, copied from the connection's TEMP table
-- (aside_tables.sqlite.sql) into stg_parse_error with the delivery's sequence number, beside
-- staged_from_aside.sqlite.sql in the file's one write transaction. Slot: {{ columns }} (the columns but
-- delivery_seq).
insert into main.stg_parse_error ({{ columns }}, delivery_seq)
select {{ columns }}, :delivery_seq
from temp.parse_errors_aside
