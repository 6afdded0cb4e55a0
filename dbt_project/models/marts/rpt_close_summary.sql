{{ config(materialized='incremental', incremental_strategy='append', pre_hook="{{ delete_cycle_slice() }}") }}
{#- The numbers finance signs: per pay cycle and account, counts and amounts per recon status
    for our payments and the bank's lines, the match rate, the exposure (payments completed in
    our books that the bank has not confirmed), and the statement balance proof. -#}
{%- set statuses = ['unmatched', 'matched', 'partial_match', 'exception', 'resolved'] -%}
with payments as (
    select * from {{ ref('fct_payment_reconciliation') }} where pay_cycle = {{ pay_cycle() }}
),

lines as (
    select * from {{ ref('fct_bank_line_reconciliation') }} where pay_cycle = {{ pay_cycle() }}
),

statements as (
    select
        *,
        row_number() over (partition by account_iban
                           order by opening_date, source_sha256, statement_index) as first_rank,
        row_number() over (partition by account_iban
                           order by closing_date desc, source_sha256 desc, statement_index desc) as last_rank
    from {{ ref('stg_statements') }}
    where pay_cycle = {{ pay_cycle() }}
),

accounts as (
    select account_iban, currency from payments
    union
    select account_iban, currency from lines
    union
    select account_iban, currency from statements
),

payment_stats as (
    select
        account_iban,
        currency,
        {%- for s in statuses %}
        sum(case when recon_status = '{{ s }}' then 1 else 0 end) as payments_{{ s }}_count,
        sum(case when recon_status = '{{ s }}' then amount else 0 end) as payments_{{ s }}_amount,
        {%- endfor %}
        count(*) as payments_count,
        sum(case when payment_status = 'completed' and recon_status in ('unmatched', 'exception')
                 then 1 else 0 end) as exposure_count,
        sum(case when payment_status = 'completed' and recon_status in ('unmatched', 'exception')
                 then amount else 0 end) as exposure_amount
    from payments
    group by account_iban, currency
),

line_stats as (
    select
        account_iban,
        currency,
        {%- for s in statuses %}
        sum(case when recon_status = '{{ s }}' then 1 else 0 end) as bank_lines_{{ s }}_count,
        sum(case when recon_status = '{{ s }}' then abs(amount) else 0 end) as bank_lines_{{ s }}_amount,
        {%- endfor %}
        count(*) as bank_lines_count
    from lines
    group by account_iban, currency
),

statement_stats as (
    select
        account_iban,
        currency,
        count(*) as statement_count,
        max(case when first_rank = 1 then opening_balance end) as opening_balance,
        max(case when last_rank = 1 then closing_balance end) as closing_balance,
        sum(movements) as statement_movements,
        sum(case when balanced then 0 else 1 end) as unbalanced_statements
    from statements
    group by account_iban, currency
),

final as (
    select
        {{ pay_cycle() }} as pay_cycle,
        a.account_iban,
        a.currency,
        {%- for s in statuses %}
        coalesce(p.payments_{{ s }}_count, 0) as payments_{{ s }}_count,
        coalesce(p.payments_{{ s }}_amount, 0) as payments_{{ s }}_amount,
        {%- endfor %}
        {%- for s in statuses %}
        coalesce(l.bank_lines_{{ s }}_count, 0) as bank_lines_{{ s }}_count,
        coalesce(l.bank_lines_{{ s }}_amount, 0) as bank_lines_{{ s }}_amount,
        {%- endfor %}
        coalesce(p.payments_count, 0) as payments_count,
        coalesce(l.bank_lines_count, 0) as bank_lines_count,
        cast(
            case when coalesce(p.payments_count, 0) + coalesce(l.bank_lines_count, 0) = 0 then null
                 else (coalesce(p.payments_matched_count, 0) + coalesce(p.payments_partial_match_count, 0)
                       + coalesce(p.payments_resolved_count, 0)
                       + coalesce(l.bank_lines_matched_count, 0) + coalesce(l.bank_lines_partial_match_count, 0)
                       + coalesce(l.bank_lines_resolved_count, 0)) * 1.0
                      / (coalesce(p.payments_count, 0) + coalesce(l.bank_lines_count, 0))
            end as decimal(9,4)) as match_rate,
        coalesce(p.exposure_count, 0) as exposure_count,
        coalesce(p.exposure_amount, 0) as exposure_amount,
        coalesce(s.statement_count, 0) as statement_count,
        s.opening_balance,
        s.closing_balance,
        s.statement_movements,
        case
            when s.opening_balance is null or s.closing_balance is null then null
            else s.opening_balance + s.statement_movements = s.closing_balance
                 and coalesce(s.unbalanced_statements, 0) = 0
        end as balance_proof_ok
    from accounts as a
    left join payment_stats as p on p.account_iban = a.account_iban and p.currency = a.currency
    left join line_stats as l on l.account_iban = a.account_iban and l.currency = a.currency
    left join statement_stats as s on s.account_iban = a.account_iban and s.currency = a.currency
)

select * from final
