{#- Rows that earlier pay cycles wrote to a mart. Read directly (not through ref) because a
    cycle's matching depends on what earlier cycles decided: carry-forward, not a DAG edge.
    Before the mart exists the caller's empty select (with the right column types) is used. -#}
{% macro prior_cycle_rows(identifier, empty_select) -%}
    {%- set relation = none -%}
    {%- if execute -%}
        {%- set relation = adapter.get_relation(database=target.database, schema='marts', identifier=identifier) -%}
    {%- endif -%}
    {%- if relation is not none -%}
        select * from {{ relation }} where pay_cycle < {{ pay_cycle() }}
    {%- else -%}
        {{ empty_select }}
    {%- endif -%}
{%- endmacro %}

{#- Incremental marts hold one slice per pay cycle: rebuilding a cycle replaces its slice. -#}
{% macro delete_cycle_slice() -%}
    {%- if execute and is_incremental() -%}
        delete from {{ this }} where pay_cycle = {{ pay_cycle() }}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}
