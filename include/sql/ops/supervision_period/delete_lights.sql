delete from sup_project_light where period = :period
