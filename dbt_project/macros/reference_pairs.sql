{#- Pairs of (bank side, payment) whose references agree at level 1 or more, found with
    equality joins (normalised reference, or the bank's 16-character cut of ours) instead of a
    cross product, so candidate generation stays linear in volume.
    bank_side must expose: account_iban, the key columns and the reference column;
    payments must expose: payment_id, account_iban, end_to_end_id. -#}
{% macro reference_pairs(bank_side, bank_keys, bank_ref, payments) -%}
    {%- set keys = bank_keys | join(', b.') -%}
    select distinct b.{{ keys }}, p.payment_id,
           {{ reference_level('b.' ~ bank_ref, 'p.end_to_end_id') }} as reference_level
    from (
        select b.{{ keys }}, p.payment_id
        from {{ bank_side }} as b
        inner join {{ payments }} as p
            on p.account_iban = b.account_iban
           and {{ normalise_ref('p.end_to_end_id') }} = {{ normalise_ref('b.' ~ bank_ref) }}
        union
        select b.{{ keys }}, p.payment_id
        from {{ bank_side }} as b
        inner join {{ payments }} as p
            on p.account_iban = b.account_iban
           and upper(left(p.end_to_end_id, 16)) = upper(b.{{ bank_ref }})
        where length(b.{{ bank_ref }}) = 16 and length(p.end_to_end_id) > 16
    ) as pairs
    inner join {{ bank_side }} as b on {% for k in bank_keys %}b.{{ k }} = pairs.{{ k }}{% if not loop.last %} and {% endif %}{% endfor %}
    inner join {{ payments }} as p on p.payment_id = pairs.payment_id
{%- endmacro %}

{#- Reference pairs (any relation with payment_id) with their payment's columns, joined by
    payment id. Callers materialize it (`name as materialized (...)`) and only then join the
    bank line by its id and compare amounts, signs and dates. Why: left to the planner, the
    payment-to-line comparisons (same currency, same sign) became a hash join of every open
    payment with every open line — tens of millions of rows and minutes per stage at 20,000
    payments a day — instead of a join along the few pairs whose references agree. -#}
{% macro pairs_with_payment(pairs, payments, columns=['p.signed_amount', 'p.currency', 'p.sent_cycle']) -%}
    select rp.*, {{ columns | join(', ') }}
    from {{ pairs }} as rp
    inner join {{ payments }} as p on p.payment_id = rp.payment_id
{%- endmacro %}

{#- The common columns of every link row, so each matching stage returns the same shape. -#}
{% macro link_columns(match_id, rule_id, confidence, link_status, exception_type, reference_level, amount_difference, date_difference_days, payment_id='payment_id', bank_line_id='bank_line_id') -%}
    {{ match_id }} as match_id,
    {{ payment_id }} as payment_id,
    {{ bank_line_id }} as bank_line_id,
    cast({{ rule_id }} as varchar) as rule_id,
    cast({{ confidence }} as decimal(5,4)) as confidence,
    cast({{ link_status }} as varchar) as link_status,
    cast({{ exception_type }} as varchar) as exception_type,
    cast({{ reference_level }} as integer) as reference_level,
    cast({{ amount_difference }} as decimal(20,5)) as amount_difference,
    cast({{ date_difference_days }} as integer) as date_difference_days
{%- endmacro %}

{#- The (payment, bank line) pairs earlier matching stages already linked this cycle: each
    stage takes only what the stages before it left. -#}
{% macro linked_by_stages(stages) -%}
    {%- for stage in stages %}
    select payment_id, bank_line_id from {{ ref(stage) }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
{%- endmacro %}

{#- The most severe link of each item this cycle (exception, then partial_match, then matched):
    an item linked several times (a split, a return) takes the worst status of its links. -#}
{% macro worst_link_per(item_column) -%}
    select
        {{ item_column }},
        link_status,
        exception_type,
        match_id,
        rule_id,
        row_number() over (
            partition by {{ item_column }}
            order by case link_status when 'exception' then 1 when 'partial_match' then 2 else 3 end,
                     exception_type, match_id
        ) as severity_rank
    from {{ ref('int_links_current') }}
{%- endmacro %}
