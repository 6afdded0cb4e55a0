{#- Where DuckDB and Postgres differ, one macro per idea, dispatched per adapter. -#}

{#- The pay cycle of a UTC timestamp column (CONTRACT.md §2): the local calendar day, or the
    next day once the local clock has reached the cut-off. Adding (24h - cut-off) to the local
    wall-clock time and taking the date is that rule; a 00:00 cut-off adds nothing (the cycle is
    the calendar day). Same rule as recon_pipeline.cycles.cycle_of, pinned by one table of worked
    examples (tests/unit/pay_cycle_examples.py) run against both. timezone / cutoff_minutes
    default to the run's vars; the test passes them to cover every zone and cut-off in one compile. -#}
{% macro cycle_date_of(ts, timezone=none, cutoff_minutes=none) -%}
    {%- set tz = timezone if timezone is not none else var("pay_cycle_timezone") -%}
    {%- set minutes = (cutoff_minutes if cutoff_minutes is not none else var("pay_cycle_cutoff_minutes")) | int -%}
    {{ return(adapter.dispatch('cycle_date_of', 'recon')(ts, tz, (1440 - minutes) % 1440)) }}
{%- endmacro %}
{% macro default__cycle_date_of(ts, tz, shift_minutes) -%}
    cast(timezone('{{ tz }}', timezone('UTC', {{ ts }})) + {{ shift_minutes }} * interval '1 minute' as date)
{%- endmacro %}
{% macro postgres__cycle_date_of(ts, tz, shift_minutes) -%}
    cast((({{ ts }} at time zone 'UTC') at time zone '{{ tz }}') + {{ shift_minutes }} * interval '1 minute' as date)
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

{#- A date plus a whole number of days (DuckDB and Postgres agree on date + integer). -#}
{% macro add_days(d, n) -%}(cast({{ d }} as date) + cast({{ n }} as integer)){%- endmacro %}
