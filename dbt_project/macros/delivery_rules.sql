{#- Which statement and which delivery of a bank line count (CONTRACT §1.2), and the pay cycle
    of a statement. Staging owns these rules; the input gate (recon_pipeline/quality/
    staging_rules.py) renders this same file with plain Jinja to judge the rows staging will
    keep, so the macros here use no dbt function, call nothing outside this file, and write no
    '%' (the gate's SQL goes through psycopg on Postgres, where '%' marks a parameter). -#}

{#- 1 for an intraday report or a notification (camt.052, camt.054, MT942), 0 for an
    end-of-day statement: the end-of-day statement is the authoritative report of a day's
    bookings, so it sorts first wherever one delivery must be chosen. -#}
{% macro intraday_statement_rank(format_column) -%}
    case when substr({{ format_column }}, 1, 8) in ('camt.052', 'camt.054')
              or {{ format_column }} = 'MT942' then 1 else 0 end
{%- endmacro %}

{#- A statement belongs to the pay cycle of its closing date; without one, of its last
    booking; without bookings, of its opening date. -#}
{% macro statement_pay_cycle(statement, last_booking_date) -%}
    coalesce({{ statement }}.closing_date, {{ last_booking_date }}, {{ statement }}.opening_date)
{%- endmacro %}

{#- A line that is reconciled: booked (not pending or information-only), dated, moving money. -#}
{% macro bank_line_is_booked(line) -%}
    {{ line }}.entry_status = 'BOOK' and {{ line }}.booking_date is not null and {{ line }}.amount <> 0
{%- endmacro %}

{#- Among the deliveries of one bank_line_id, the one kept sorts first: an end-of-day
    statement over an intraday report or notification, then the lowest (file sha256, position),
    so the same delivery is kept run after run. -#}
{% macro bank_line_delivery_order(line, statement) -%}
    {{ intraday_statement_rank(statement ~ '.format') }}, {{ line }}.source_sha256, {{ line }}.position
{%- endmacro %}
