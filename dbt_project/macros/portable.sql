{#- Where DuckDB and Postgres differ, one macro per idea, dispatched per adapter. -#}

{#- The pay cycle of a UTC timestamp column (CONTRACT.md §2): the local calendar day, or the
    next day once the local clock has reached the cut-off. Adding (24h - cut-off) to the local
    wall-clock time and taking the date is that rule; a 00:00 cut-off adds nothing (the cycle is
    the calendar day). Same rule as recon_pipeline.cycles.cycle_of, pinned by one table of worked
    examples (tests/unit/pay_cycle_examples.py) run against both. timezone / cutoff_minutes
    default to the run's vars; the test passes them to cover every zone and cut-off in one compile.

    When the clocks go forward over the cut-off the wall clock jumps past it and the rule above
    already closes the cycle at the jump. When they go back and the cut-off lies in the repeated
    hour, the clock showed it on the first pass: an instant of the second pass that reads earlier
    than the cut-off still belongs to the next cycle. That instant is recognised without knowing
    the transition: the clock went back by `fold` (the offset three hours earlier minus the
    offset now, when positive), and the first-pass instant of the cut-off, `fold` earlier than
    where the cut-off would be at today's offset, really read the cut-off and lies before it. -#}
{% macro cycle_date_of(ts, timezone=none, cutoff_minutes=none) -%}
    {%- set tz = timezone if timezone is not none else var("pay_cycle_timezone") -%}
    {%- set minutes = (cutoff_minutes if cutoff_minutes is not none else var("pay_cycle_cutoff_minutes")) | int -%}
    {%- set by_wall_clock -%}
        cast({{ local_wall_clock(ts, tz) }} + {{ (1440 - minutes) % 1440 }} * interval '1 minute' as date)
    {%- endset -%}
    {%- if minutes == 0 -%}
        {{ by_wall_clock }}
    {%- else -%}
        {%- set wall = local_wall_clock(ts, tz) -%}
        {%- set cutoff_today = "cast(" ~ wall ~ " as date) + " ~ minutes ~ " * interval '1 minute'" -%}
        {%- set earlier = "(" ~ ts ~ " - interval '3 hours')" -%}
        {%- set fold = "((" ~ local_wall_clock(earlier, tz) ~ " - " ~ earlier ~ ") - (" ~ wall ~ " - " ~ ts ~ "))" -%}
        {%- set first_pass = "(" ~ ts ~ " + ((" ~ cutoff_today ~ ") - " ~ wall ~ ") - " ~ fold ~ ")" -%}
        ({{ by_wall_clock }} + case
            when {{ fold }} > interval '0 minutes'
             and {{ wall }} < {{ cutoff_today }}
             and {{ first_pass }} < {{ ts }}
             and {{ local_wall_clock(first_pass, tz) }} = {{ cutoff_today }}
            then 1 else 0 end)
    {%- endif -%}
{%- endmacro %}

{#- The local wall-clock timestamp (no zone) of a UTC timestamp column. -#}
{% macro local_wall_clock(ts, tz) -%}{{ return(adapter.dispatch('local_wall_clock', 'recon')(ts, tz)) }}{%- endmacro %}
{% macro default__local_wall_clock(ts, tz) -%}timezone('{{ tz }}', timezone('UTC', {{ ts }})){%- endmacro %}
{% macro postgres__local_wall_clock(ts, tz) -%}(({{ ts }} at time zone 'UTC') at time zone '{{ tz }}'){%- endmacro %}

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
