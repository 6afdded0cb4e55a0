{#- The pay cycle being built and its half-open UTC window, as SQL literals. -#}
{% macro pay_cycle() -%}
    cast('{{ var("pay_cycle") }}' as date)
{%- endmacro %}

{% macro cycle_end_utc() -%}
    cast('{{ var("cycle_end_utc") }}' as timestamp)
{%- endmacro %}

{% macro settlement_window_days() -%}
    {{ var("settlement_window_days") | int }}
{%- endmacro %}

{#- CONTRACT §2: an item reaches its settlement window at age >= window (a payment sent on the
    16th is 3 days old, and an exception, in the cycle of the 19th). The one place this rule lives. -#}
{% macro past_settlement_window(age_days) -%}
    ({{ age_days }} >= {{ settlement_window_days() }})
{%- endmacro %}
