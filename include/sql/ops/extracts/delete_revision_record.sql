-- Forget the record of one revision (it is written again right after).
delete from ext_revision
where period = :period and revision = :revision
