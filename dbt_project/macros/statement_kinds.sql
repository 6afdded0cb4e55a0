{#- 1 for an intraday report or a notification (camt.052, camt.054, MT942), 0 for an
    end-of-day statement: the end-of-day statement is the authoritative report of a day's
    bookings (CONTRACT §1.2), so it sorts first wherever one delivery must be chosen. -#}
{% macro intraday_statement_rank(format_column) -%}
    case when {{ format_column }} like 'camt.052%' or {{ format_column }} like 'camt.054%'
              or {{ format_column }} = 'MT942' then 1 else 0 end
{%- endmacro %}
