{#- The pay cycle being built and its half-open UTC window, as SQL literals.

    The per-cycle values come from `--vars` when a caller passes them (tests, one-off runs),
    otherwise from the environment (RECON_PAY_CYCLE, RECON_CYCLE_START_UTC,
    RECON_CYCLE_END_UTC) that the pipeline sets for each cycle's build. Why the environment:
    dbt re-parses the whole project whenever `--vars` change, so passing the cycle as a var
    cost a full parse per cycle. The environment is read only while executing (`execute`),
    never while parsing, so dbt does not track it and its partial parsing holds. Neither given
    (a bare `dbt build --empty`): the placeholder cycle, as the old var defaults were. -#}
{% macro cycle_var(name, parse_value) -%}
    {%- set passed = var(name, none) -%}
    {%- if passed is not none -%}
        {{ return(passed) }}
    {%- elif execute -%}
        {{ return(env_var('RECON_' ~ name | upper, parse_value)) }}
    {%- else -%}
        {{ return(parse_value) }}
    {%- endif -%}
{%- endmacro %}

{% macro pay_cycle() -%}
    cast('{{ cycle_var("pay_cycle", "2026-01-01") }}' as date)
{%- endmacro %}

{% macro cycle_end_utc() -%}
    cast('{{ cycle_var("cycle_end_utc", "2026-01-02 00:00:00") }}' as timestamp)
{%- endmacro %}

{% macro settlement_window_days() -%}
    {{ var("settlement_window_days") | int }}
{%- endmacro %}

{#- CONTRACT §2: an item reaches its settlement window at age >= window (a payment sent on the
    16th is 3 days old, and an exception, in the cycle of the 19th). The one place this rule lives. -#}
{% macro past_settlement_window(age_days) -%}
    ({{ age_days }} >= {{ settlement_window_days() }})
{%- endmacro %}
