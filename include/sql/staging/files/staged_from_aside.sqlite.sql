-- SQLite: a file's parsed rows, copied from the connection's TEMP table (aside_tables.sqlite.sql) into the
-- form's staging table, in the file's one write transaction with its log row (techreform.ingest._stage):
-- the file is staged whole or not at all, and the write lock is held for this copy, not for the parse.
-- The delivery's sequence number is known only in that transaction (next_delivery_seq.sql), so it is
-- given here. No order is asked for: a scan of the TEMP table gives its rows as inserted, and the load
-- puts staged rows in delivery order itself (techreform.load.into_delivery_order) whatever order they come in.
-- Slots: {{ staging_table }}, {{ columns }} (the staged columns but delivery_seq).
insert into main.{{ staging_table }} ({{ columns }}, delivery_seq)
select {{ columns }}, :delivery_seq
from temp.staged_aside
