{#- Where DuckDB and Postgres differ, one macro per idea, dispatched per adapter. -#}

{#- The pay cycle (local calendar day after the cut-off) of a UTC timestamp column. -#}
{% macro cycle_date_of(ts) -%}{{ return(adapter.dispatch('cycle_date_of', 'recon')(ts)) }}{%- endmacro %}
{% macro default__cycle_date_of(ts) -%}
    cast(timezone('{{ var("pay_cycle_timezone") }}', timezone('UTC', {{ ts }}))
         - {{ var("pay_cycle_cutoff_minutes") | int }} * interval '1 minute' as date)
{%- endmacro %}
{% macro postgres__cycle_date_of(ts) -%}
    cast((({{ ts }} at time zone 'UTC') at time zone '{{ var("pay_cycle_timezone") }}')
         - {{ var("pay_cycle_cutoff_minutes") | int }} * interval '1 minute' as date)
{%- endmacro %}

{#- Whole days from date a to date b (b - a). -#}
{% macro days_between(a, b) -%}{{ return(adapter.dispatch('days_between', 'recon')(a, b)) }}{%- endmacro %}
{% macro default__days_between(a, b) -%}date_diff('day', cast({{ a }} as date), cast({{ b }} as date)){%- endmacro %}
{% macro postgres__days_between(a, b) -%}(cast({{ b }} as date) - cast({{ a }} as date)){%- endmacro %}

{#- A stable hex digest of text, for content-derived ids. -#}
{% macro hash_text(expr) -%}{{ return(adapter.dispatch('hash_text', 'recon')(expr)) }}{%- endmacro %}
{% macro default__hash_text(expr) -%}substr(sha256({{ expr }}), 1, 24){%- endmacro %}
{% macro postgres__hash_text(expr) -%}substr(encode(sha256(convert_to({{ expr }}, 'UTF8')), 'hex'), 1, 24){%- endmacro %}

{#- A content-derived id: prefix + digest of the columns in a fixed order, nulls spelled out. -#}
{% macro id_of(prefix, columns) -%}
    {%- set parts = [] -%}
    {%- for c in columns -%}
        {%- do parts.append("coalesce(cast(" ~ c ~ " as varchar), '~')") -%}
    {%- endfor -%}
    '{{ prefix }}_' || {{ hash_text(parts | join(" || '|' || ")) }}
{%- endmacro %}

{#- A string aggregate with a deterministic order. -#}
{% macro ordered_string_agg(expr, order_by) -%}{{ return(adapter.dispatch('ordered_string_agg', 'recon')(expr, order_by)) }}{%- endmacro %}
{% macro default__ordered_string_agg(expr, order_by) -%}string_agg({{ expr }}, ',' order by {{ order_by }}){%- endmacro %}
