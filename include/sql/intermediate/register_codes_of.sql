-- E1-S09, P1-S03, A1-S01, Q1-S01: the codes of the enterprises asked for (an expanding list of codes,
-- given in chunks by techreform.warehouse.read_frame_in) in the register snapshot in force for the
-- period, reached through the register's primary key: what a form of a few thousand rows reads instead
-- of the whole register (register_codes.sql; techreform.validation.derive._register).
select r.uscc, r.region_code, r.industry_code
from int_register_in_force as r
where r.in_force_period = :period and r.uscc in :codes
