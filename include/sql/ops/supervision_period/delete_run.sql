delete from sup_run where period = :period
