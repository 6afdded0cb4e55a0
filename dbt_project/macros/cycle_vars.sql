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
