{#- What an exception puts at stake, as a positive amount: for a difference on a link (a fee,
    an amount mismatch) the difference, never the gross payment; for anything else the item. -#}
{% macro amount_at_stake(exception_type, amount, amount_difference) -%}
    case when {{ exception_type }} in ('probable_fee', 'amount_mismatch', 'internal_amount_mismatch')
              and {{ amount_difference }} is not null
         then abs({{ amount_difference }})
         else abs(coalesce({{ amount }}, 0)) end
{%- endmacro %}

{#- A payment's amount as it moves the account: outgoing negative, incoming positive. -#}
{% macro signed_payment_amount(amount, direction) -%}
    case when {{ direction }} = 'outgoing' then -{{ amount }} else {{ amount }} end
{%- endmacro %}

{#- The recon statuses a close summary counts, in the order finance reads them (CONTRACT §3). -#}
{% macro recon_statuses() -%}
    {{ return(['unmatched', 'matched', 'partial_match', 'exception', 'resolved']) }}
{%- endmacro %}

{#- Count and amount per recon status, as <prefix>_<status>_count / _amount columns of a
    grouped select (each followed by a comma). -#}
{% macro per_status_totals(prefix, amount) -%}
    {%- for s in recon_statuses() %}
        sum(case when recon_status = '{{ s }}' then 1 else 0 end) as {{ prefix }}_{{ s }}_count,
        sum(case when recon_status = '{{ s }}' then {{ amount }} else 0 end) as {{ prefix }}_{{ s }}_amount,
    {%- endfor %}
{%- endmacro %}

{#- The same columns carried through a join, zero where the side has no row. -#}
{% macro per_status_totals_or_zero(alias, prefix) -%}
    {%- for s in recon_statuses() %}
        coalesce({{ alias }}.{{ prefix }}_{{ s }}_count, 0) as {{ prefix }}_{{ s }}_count,
        coalesce({{ alias }}.{{ prefix }}_{{ s }}_amount, 0) as {{ prefix }}_{{ s }}_amount,
    {%- endfor %}
{%- endmacro %}
