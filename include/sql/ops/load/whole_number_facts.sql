-- An integer field of a form's facts holds whole numbers: a staged value with a fraction (kept in
-- staging for the rules, e.g. E1-H07, to see) is rounded half to even. PostgreSQL's assignment cast from
-- double precision rounded it so when current_facts.sql inserted it (there this finds no row); SQLite
-- stores the value as given, and this rounds it the same way. A double of magnitude 2^52 or more has no
-- fraction, and is left as it is (past bigint, PostgreSQL's insert refuses it). Slots: {{ target_table }},
-- {{ period_column }}, {{ column }} (an integer field of the form).
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
    and abs({{ column }}) < 4503599627370496
    and {{ column }} <> cast({{ column }} as bigint)
