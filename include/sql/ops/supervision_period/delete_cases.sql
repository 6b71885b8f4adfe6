delete from sup_case where project_code in :codes
