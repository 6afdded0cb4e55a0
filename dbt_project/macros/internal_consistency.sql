{#- CONTRACT §6 (internal consistency) as SQL fragments; the vars come from
    recon_pipeline/consistency/dbt_vars.py and default to "off" in dbt_project.yml. -#}

{#- Where an event stands in a payment's lifecycle, for ordering events of the same instant:
    initiated before sent before the outcome, a return after the outcome. -#}
{% macro event_lifecycle_rank(event_type) -%}
    case {{ event_type }} when 'payment.initiated' then 1 when 'payment.sent' then 2
                          when 'payment.returned' then 4 else 3 end
{%- endmacro %}

{#- True when recon.yaml has an internal_consistency section. -#}
{% macro internal_consistency_enabled() -%}
    {{- 'true' if var('internal_consistency_enabled', false) else 'false' -}}
{%- endmacro %}

{#- The configured flows as rows (entry_service, service): who must report an entry's processings. -#}
{% macro internal_flow_rows() -%}
    {%- set rows = [] -%}
    {%- for entry, participants in (var('internal_flows', {}) or {}).items() | sort -%}
        {%- for participant in participants -%}
            {%- do rows.append("select cast('" ~ (entry | replace("'", "''")) ~ "' as varchar) as entry_service, cast('"
                               ~ (participant | replace("'", "''")) ~ "' as varchar) as service") -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- if rows -%}
        {{ rows | join('\n    union all\n    ') }}
    {%- else -%}
        select cast(null as varchar) as entry_service, cast(null as varchar) as service where 1 = 0
    {%- endif -%}
{%- endmacro %}

{#- A timestamp expression moved on by a whole number of minutes taken from a var. -#}
{% macro plus_minutes(ts, minutes_var) -%}
    ({{ ts }} + {{ var(minutes_var) | int }} * interval '1 minute')
{%- endmacro %}

{#- The exception types of our own services' disagreements, as a SQL list. -#}
{% macro internal_exception_types() -%}
    ('participant_missing', 'late_report', 'internal_amount_mismatch', 'internal_status_mismatch')
{%- endmacro %}

{#- One kind of disagreement between our services (int_internal_breaks), as rows shaped alike:
    the participant's payment and service, the entry's value (expected_value) against the
    participant's (reported_value), the amount difference where one applies. Reads the
    `participants` CTE of the calling model. -#}
{% macro internal_break(exception_type, expected_value, reported_value, amount_difference, condition) -%}
    select
        '{{ exception_type }}' as exception_type,
        payment_id,
        service,
        cast({{ expected_value }} as varchar) as expected_value,
        cast({{ reported_value }} as varchar) as reported_value,
        cast({{ amount_difference }} as decimal(20,5)) as amount_difference,
        account_iban, entry_amount, currency, sent_cycle
    from participants
    where {{ condition }}
{%- endmacro %}
