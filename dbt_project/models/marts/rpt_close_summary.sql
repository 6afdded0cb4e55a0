{{ config(materialized='incremental', incremental_strategy='append', on_schema_change='append_new_columns', pre_hook="{{ delete_cycle_slice() }}") }}
{#- The numbers finance signs: per pay cycle and account, counts and signed amounts per recon
    status for our payments (outgoing negative) and the bank's lines (debits negative), so they
    add up to what moved on the account; incoming and outgoing apart; the match rate of payments
    and of bank lines apart; the exposure; the open exceptions with the amount at stake (every
    open exception of the cycle, also those whose item settled, so the figure ties to the
    exceptions sheet); the statement balance proof; and the bank-to-books proof
    (rpt_bank_to_books) ending in unexplained_difference. An account without a statement for
    the cycle has statement_status 'no statement' and balance_proof_ok null, never true. -#}
{%- set settled = "('matched', 'partial_match', 'resolved')" -%}
with payments as (
    select
        *,
        {{ signed_payment_amount('amount', 'direction') }} as signed_amount
    from {{ ref('fct_payment_reconciliation') }}
    where pay_cycle = {{ pay_cycle() }}
),

lines as (
    select * from {{ ref('fct_bank_line_reconciliation') }} where pay_cycle = {{ pay_cycle() }}
),

exceptions as (
    select * from {{ ref('rpt_exceptions') }} where pay_cycle = {{ pay_cycle() }}
),

proof as (
    select * from {{ ref('rpt_bank_to_books') }} where pay_cycle = {{ pay_cycle() }}
),

cycle_statements as (
    select * from {{ ref('stg_statements') }}
    where pay_cycle = {{ pay_cycle() }}
),

-- Several statements of one account can share their dates: the pages of a statement too big for
-- one message (camt MsgPgntn, MT940 :28C: n/page), each with interim balances. Their balances
-- chain (page 1 closes where page 2 opens), and the chain, not the file's sha256, says which
-- opens the cycle and which closes it.
chain_links as (
    select
        s.statement_key,
        bool_or(o.closing_balance = s.opening_balance) as has_predecessor,
        bool_or(o.opening_balance = s.closing_balance) as has_successor
    from cycle_statements as s
    inner join cycle_statements as o
        on s.account_iban = o.account_iban and s.statement_key <> o.statement_key
    group by s.statement_key
),

chained as (
    select
        s.*,
        coalesce(c.has_predecessor, false) as has_predecessor,
        coalesce(c.has_successor, false) as has_successor
    from cycle_statements as s
    left join chain_links as c on s.statement_key = c.statement_key
),

statements as (
    select
        *,
        row_number() over (partition by account_iban
                           order by opening_date, has_predecessor, source_sha256, statement_index) as first_rank,
        row_number() over (partition by account_iban
                           order by closing_date desc, has_successor, source_sha256 desc, statement_index desc)
            as last_rank
    from chained
),

accounts as (
    select account_iban, currency from payments
    union
    select account_iban, currency from lines
    union
    select account_iban, currency from statements
    union
    select account_iban, currency from exceptions
    union
    select account_iban, currency from proof
),

payment_stats as (
    select
        account_iban,
        currency,
        {{- per_status_totals('payments', 'signed_amount') }}
        count(*) as payments_count,
        sum(signed_amount) as payments_amount,
        sum(case when direction = 'incoming' then 1 else 0 end) as payments_incoming_count,
        sum(case when direction = 'incoming' then signed_amount else 0 end) as payments_incoming_amount,
        sum(case when direction = 'outgoing' then 1 else 0 end) as payments_outgoing_count,
        sum(case when direction = 'outgoing' then signed_amount else 0 end) as payments_outgoing_amount,
        sum(case when direction = 'incoming' and recon_status in {{ settled }} then 1 else 0 end)
            as payments_incoming_settled_count,
        sum(case when direction = 'outgoing' and recon_status in {{ settled }} then 1 else 0 end)
            as payments_outgoing_settled_count,
        sum(case when payment_status = 'completed' and recon_status in ('unmatched', 'exception')
                 then 1 else 0 end) as exposure_count,
        sum(case when payment_status = 'completed' and recon_status in ('unmatched', 'exception')
                 and direction = 'incoming' then signed_amount else 0 end) as exposure_incoming_amount,
        sum(case when payment_status = 'completed' and recon_status in ('unmatched', 'exception')
                 and direction = 'outgoing' then signed_amount else 0 end) as exposure_outgoing_amount
    from payments
    group by account_iban, currency
),

line_stats as (
    select
        account_iban,
        currency,
        {{- per_status_totals('bank_lines', 'amount') }}
        count(*) as bank_lines_count,
        sum(amount) as bank_lines_amount,
        sum(case when amount > 0 then 1 else 0 end) as bank_lines_credit_count,
        sum(case when amount > 0 then amount else 0 end) as bank_lines_credit_amount,
        sum(case when amount < 0 then 1 else 0 end) as bank_lines_debit_count,
        sum(case when amount < 0 then amount else 0 end) as bank_lines_debit_amount
    from lines
    group by account_iban, currency
),

exception_stats as (
    select
        account_iban,
        currency,
        sum(case when status = 'open' then 1 else 0 end) as open_exception_count,
        sum(case when status = 'open' then amount_at_stake else 0 end) as open_exception_amount,
        sum(case when status = 'open' and opened_cycle < {{ pay_cycle() }} then 1 else 0 end)
            as open_exceptions_from_earlier_count,
        sum(case when status = 'open' and opened_cycle < {{ pay_cycle() }} then amount_at_stake else 0 end)
            as open_exceptions_from_earlier_amount,
        sum(case when status = 'resolved' then 1 else 0 end) as resolved_exception_count
    from exceptions
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
        {{- per_status_totals_or_zero('p', 'payments') }}
        {{- per_status_totals_or_zero('l', 'bank_lines') }}
        coalesce(p.payments_count, 0) as payments_count,
        coalesce(l.bank_lines_count, 0) as bank_lines_count,
        coalesce(p.payments_amount, 0) as payments_amount,
        coalesce(l.bank_lines_amount, 0) as bank_lines_amount,
        coalesce(p.payments_incoming_count, 0) as payments_incoming_count,
        coalesce(p.payments_incoming_amount, 0) as payments_incoming_amount,
        coalesce(p.payments_outgoing_count, 0) as payments_outgoing_count,
        coalesce(p.payments_outgoing_amount, 0) as payments_outgoing_amount,
        coalesce(l.bank_lines_credit_count, 0) as bank_lines_credit_count,
        coalesce(l.bank_lines_credit_amount, 0) as bank_lines_credit_amount,
        coalesce(l.bank_lines_debit_count, 0) as bank_lines_debit_count,
        coalesce(l.bank_lines_debit_amount, 0) as bank_lines_debit_amount,
        cast(case when coalesce(p.payments_count, 0) = 0 then null
                  else (coalesce(p.payments_matched_count, 0) + coalesce(p.payments_partial_match_count, 0)
                        + coalesce(p.payments_resolved_count, 0)) * 1.0 / p.payments_count
             end as decimal(9,4)) as payment_match_rate,
        cast(case when coalesce(p.payments_incoming_count, 0) = 0 then null
                  else p.payments_incoming_settled_count * 1.0 / p.payments_incoming_count
             end as decimal(9,4)) as incoming_payment_match_rate,
        cast(case when coalesce(p.payments_outgoing_count, 0) = 0 then null
                  else p.payments_outgoing_settled_count * 1.0 / p.payments_outgoing_count
             end as decimal(9,4)) as outgoing_payment_match_rate,
        cast(case when coalesce(l.bank_lines_count, 0) = 0 then null
                  else (coalesce(l.bank_lines_matched_count, 0) + coalesce(l.bank_lines_partial_match_count, 0)
                        + coalesce(l.bank_lines_resolved_count, 0)) * 1.0 / l.bank_lines_count
             end as decimal(9,4)) as bank_line_match_rate,
        -- kept for the match-rate checks and dashboards: the payments' match rate
        cast(case when coalesce(p.payments_count, 0) = 0 then null
                  else (coalesce(p.payments_matched_count, 0) + coalesce(p.payments_partial_match_count, 0)
                        + coalesce(p.payments_resolved_count, 0)) * 1.0 / p.payments_count
             end as decimal(9,4)) as match_rate,
        coalesce(p.exposure_count, 0) as exposure_count,
        coalesce(p.exposure_incoming_amount, 0) - coalesce(p.exposure_outgoing_amount, 0) as exposure_amount,
        coalesce(p.exposure_incoming_amount, 0) as exposure_incoming_amount,
        coalesce(p.exposure_outgoing_amount, 0) as exposure_outgoing_amount,
        coalesce(e.open_exception_count, 0) as open_exception_count,
        coalesce(e.open_exception_amount, 0) as open_exception_amount,
        coalesce(e.open_exceptions_from_earlier_count, 0) as open_exceptions_from_earlier_count,
        coalesce(e.open_exceptions_from_earlier_amount, 0) as open_exceptions_from_earlier_amount,
        coalesce(e.resolved_exception_count, 0) as resolved_exception_count,
        coalesce(s.statement_count, 0) as statement_count,
        coalesce(pr.statement_status, 'no statement') as statement_status,
        s.opening_balance,
        s.closing_balance,
        s.statement_movements,
        case
            when s.statement_count is null then null
            when s.opening_balance is null or s.closing_balance is null then null
            else s.opening_balance + s.statement_movements = s.closing_balance
                 and coalesce(s.unbalanced_statements, 0) = 0
        end as balance_proof_ok,
        pr.bank_movements,
        coalesce(pr.books_payment_movements, 0) as books_payment_movements,
        coalesce(pr.books_adjustments, 0) as books_adjustments,
        coalesce(pr.books_movements, 0) as books_movements,
        coalesce(pr.fee_difference_amount, 0) as fee_difference_amount,
        coalesce(pr.mismatch_difference_amount, 0) as mismatch_difference_amount,
        coalesce(pr.returns_amount, 0) as returns_amount,
        coalesce(pr.earlier_payments_settled_amount, 0) as earlier_payments_settled_amount,
        coalesce(pr.earlier_bank_lines_settled_amount, 0) as earlier_bank_lines_settled_amount,
        coalesce(pr.in_flight_bank_amount, 0) as in_flight_bank_amount,
        coalesce(pr.in_flight_books_amount, 0) as in_flight_books_amount,
        coalesce(pr.missing_in_books_amount, 0) as missing_in_books_amount,
        coalesce(pr.missing_in_bank_amount, 0) as missing_in_bank_amount,
        coalesce(pr.adjustments_amount, 0) as adjustments_amount,
        pr.unexplained_difference,
        case
            when pr.statement_status is null or pr.statement_status = 'no statement' then null
            else pr.unexplained_difference = 0
        end as bank_to_books_ok
    from accounts as a
    left join payment_stats as p on p.account_iban = a.account_iban and p.currency = a.currency
    left join line_stats as l on l.account_iban = a.account_iban and l.currency = a.currency
    left join exception_stats as e on e.account_iban = a.account_iban and e.currency = a.currency
    left join statement_stats as s on s.account_iban = a.account_iban and s.currency = a.currency
    left join proof as pr on pr.account_iban = a.account_iban and pr.currency = a.currency
)

select * from final
