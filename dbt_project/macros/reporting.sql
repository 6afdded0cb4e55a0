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
