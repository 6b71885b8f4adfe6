-- Name this session after the run that holds it, so that another run can say who is in the way.
select set_config('application_name', :session_name, false) as application_name
