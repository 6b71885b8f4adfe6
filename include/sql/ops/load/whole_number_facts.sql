-- An integer field of a form's facts holds whole numbers: a staged value with a fraction (kept in
-- staging for the rules, e.g. E1-H07, to see) is rounded half to even, as PostgreSQL's assignment cast
-- from double precision rounds it when current_facts.sql inserts it (so there this finds no row) and as
-- SQLite, which stores such a value as it is, does not. Slots: {{ target_table }}, {{ period_column }},
-- {{ column }} (an integer field of the form).
update {{ target_table }}
set {{ column }} = case
        when {{ column }} - cast({{ column }} as bigint) > 0.5
            or ({{ column }} - cast({{ column }} as bigint) = 0.5 and cast({{ column }} as bigint) % 2 <> 0)
            then cast({{ column }} as bigint) + 1
        when {{ column }} - cast({{ column }} as bigint) < -0.5
            or ({{ column }} - cast({{ column }} as bigint) = -0.5 and cast({{ column }} as bigint) % 2 <> 0)
            then cast({{ column }} as bigint) - 1
        else cast({{ column }} as bigint)
    end
where {{ period_column }} = :period
    and {{ column }} <> cast({{ column }} as bigint)
