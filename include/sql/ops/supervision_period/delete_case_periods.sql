delete from sup_case_period where project_code in :codes
