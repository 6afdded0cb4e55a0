{{ config(materialized='incremental', incremental_strategy='append', on_schema_change='append_new_columns', pre_hook="{{ delete_cycle_slice() }}") }}
{#- The bank-to-books proof of a pay cycle, per account: the cycle's statement movements (the
    bank's own figure) against our books' movements (payments sent in the cycle, signed, plus
    adjustments posted this cycle), with every cent of the difference attributed:

      bank_movements - books_movements
        = fee and mismatch differences on the links decided this cycle
        + returns the bank booked this cycle (linked to the returned payment)
        + open items of earlier cycles settled this cycle (their books or bank side moved earlier)
        + in flight (this cycle's items with no counterpart yet, either side)
        + missing in books / missing in bank (this cycle's items flagged or closed without one)
        - adjustments (postings in our books only)
        + unexplained_difference

    The two anchors (statements, payment events) are independent of the marts; every
    reconciling item is summed from the marts. So a bank line lost from or counted twice in
    the marts leaves an unexplained difference instead of a silently "OK" proof. Without a
    statement for the cycle there is no bank figure: the proof says 'no statement' and the
    unexplained difference is null, never 0. -#}
with statements as (
    select account_iban, currency, count(*) as statement_count, sum(movements) as bank_movements,
           sum(case when balanced then 0 else 1 end) as unbalanced_statements,
           sum(case when opening_balance is null or closing_balance is null then 1 else 0 end) as statements_without_balances
    from {{ ref('stg_statements') }}
    where pay_cycle = {{ pay_cycle() }}
    group by account_iban, currency
),

books as (
    select account_iban, currency, count(*) as books_payment_count, sum(signed_amount) as books_payment_movements
    from {{ ref('int_payments_as_of_cycle') }}
    where sent_cycle = {{ pay_cycle() }}
    group by account_iban, currency
),

adjustments as (
    select account_iban, currency, count(*) as adjustment_count, sum(adjustment_amount) as adjustments_amount
    from {{ ref('int_adjustments') }}
    group by account_iban, currency
),

links as (
    select * from {{ ref('fct_reconciliation_links') }} where pay_cycle = {{ pay_cycle() }}
),

line_rows as (
    select * from {{ ref('fct_bank_line_reconciliation') }} where pay_cycle = {{ pay_cycle() }}
),

payment_rows as (
    select
        *,
        {{ signed_payment_amount('amount', 'direction') }} as signed_amount
    from {{ ref('fct_payment_reconciliation') }}
    where pay_cycle = {{ pay_cycle() }}
),

match_kinds as (
    select
        match_id,
        max(case when exception_type = 'probable_fee' then 1 else 0 end) as is_fee
    from links
    where match_kind <> 'return'
    group by match_id
),

match_lines as (
    select distinct match_id, bank_line_id from links where match_kind <> 'return'
),

match_payments as (
    select distinct match_id, payment_id from links where match_kind <> 'return'
),

-- Each match's bank side and books side, split by whether the item belongs to this cycle.
match_sides as (
    select
        ml.match_id,
        l.account_iban,
        l.currency,
        l.amount as bank_amount,
        case when l.booking_date < {{ pay_cycle() }} then l.amount else 0 end as bank_earlier,
        cast(0 as decimal(20,5)) as books_amount,
        cast(0 as decimal(20,5)) as books_earlier
    from match_lines as ml
    inner join line_rows as l on l.bank_line_id = ml.bank_line_id
    union all
    select
        mp.match_id,
        p.account_iban,
        p.currency,
        cast(0 as decimal(20,5)),
        cast(0 as decimal(20,5)),
        p.signed_amount,
        case when p.sent_cycle < {{ pay_cycle() }} then p.signed_amount else 0 end
    from match_payments as mp
    inner join payment_rows as p on p.payment_id = mp.payment_id
),

link_items as (
    select
        s.account_iban,
        s.currency,
        sum(case when k.is_fee = 1 then s.bank_amount - s.books_amount else 0 end) as fee_difference_amount,
        sum(case when k.is_fee = 1 then 0 else s.bank_amount - s.books_amount end) as mismatch_difference_amount,
        sum(s.books_earlier) as earlier_payments_settled_amount,
        -sum(s.bank_earlier) as earlier_bank_lines_settled_amount
    from match_sides as s
    inner join match_kinds as k on k.match_id = s.match_id
    group by s.account_iban, s.currency
),

return_lines as (
    select l.account_iban, l.currency, sum(l.amount) as returns_amount
    from line_rows as l
    where l.booking_date = {{ pay_cycle() }}
      and l.bank_line_id in (select bank_line_id from links where match_kind = 'return')
    group by l.account_iban, l.currency
),

unlinked_lines as (
    select
        account_iban,
        currency,
        sum(case when recon_status = 'unmatched' then amount else 0 end) as in_flight_bank_amount,
        sum(case when recon_status = 'unmatched' then 0 else amount end) as missing_in_books_amount
    from line_rows
    where booking_date = {{ pay_cycle() }}
      and bank_line_id not in (select bank_line_id from links)
    group by account_iban, currency
),

unlinked_payments as (
    select
        account_iban,
        currency,
        -sum(case when recon_status = 'unmatched' then signed_amount else 0 end) as in_flight_books_amount,
        -sum(case when recon_status = 'unmatched' then 0 else signed_amount end) as missing_in_bank_amount
    from payment_rows
    where sent_cycle = {{ pay_cycle() }}
      and payment_id not in (select payment_id from links)
    group by account_iban, currency
),

accounts as (
    select account_iban, currency from statements
    union select account_iban, currency from books
    union select account_iban, currency from adjustments
    union select account_iban, currency from link_items
    union select account_iban, currency from return_lines
    union select account_iban, currency from unlinked_lines
    union select account_iban, currency from unlinked_payments
),

proof as (
    select
        a.account_iban,
        a.currency,
        coalesce(s.statement_count, 0) as statement_count,
        case
            when s.statement_count is null then 'no statement'
            when s.statements_without_balances > 0 then 'balances missing'
            when s.unbalanced_statements > 0 then 'unbalanced'
            else 'balanced'
        end as statement_status,
        s.bank_movements,
        coalesce(b.books_payment_count, 0) as books_payment_count,
        coalesce(b.books_payment_movements, 0) as books_payment_movements,
        coalesce(j.adjustment_count, 0) as adjustment_count,
        coalesce(j.adjustments_amount, 0) as books_adjustments,
        coalesce(b.books_payment_movements, 0) + coalesce(j.adjustments_amount, 0) as books_movements,
        coalesce(k.fee_difference_amount, 0) as fee_difference_amount,
        coalesce(k.mismatch_difference_amount, 0) as mismatch_difference_amount,
        coalesce(r.returns_amount, 0) as returns_amount,
        coalesce(k.earlier_payments_settled_amount, 0) as earlier_payments_settled_amount,
        coalesce(k.earlier_bank_lines_settled_amount, 0) as earlier_bank_lines_settled_amount,
        coalesce(ul.in_flight_bank_amount, 0) as in_flight_bank_amount,
        coalesce(up.in_flight_books_amount, 0) as in_flight_books_amount,
        coalesce(ul.missing_in_books_amount, 0) as missing_in_books_amount,
        coalesce(up.missing_in_bank_amount, 0) as missing_in_bank_amount,
        -coalesce(j.adjustments_amount, 0) as adjustments_amount
    from accounts as a
    left join statements as s on s.account_iban = a.account_iban and s.currency = a.currency
    left join books as b on b.account_iban = a.account_iban and b.currency = a.currency
    left join adjustments as j on j.account_iban = a.account_iban and j.currency = a.currency
    left join link_items as k on k.account_iban = a.account_iban and k.currency = a.currency
    left join return_lines as r on r.account_iban = a.account_iban and r.currency = a.currency
    left join unlinked_lines as ul on ul.account_iban = a.account_iban and ul.currency = a.currency
    left join unlinked_payments as up on up.account_iban = a.account_iban and up.currency = a.currency
),

final as (
    select
        {{ pay_cycle() }} as pay_cycle,
        p.*,
        p.bank_movements - p.books_movements as bank_minus_books,
        p.fee_difference_amount + p.mismatch_difference_amount + p.returns_amount
            + p.earlier_payments_settled_amount + p.earlier_bank_lines_settled_amount
            + p.in_flight_bank_amount + p.in_flight_books_amount
            + p.missing_in_books_amount + p.missing_in_bank_amount
            + p.adjustments_amount as explained_amount,
        p.bank_movements - p.books_movements
            - (p.fee_difference_amount + p.mismatch_difference_amount + p.returns_amount
               + p.earlier_payments_settled_amount + p.earlier_bank_lines_settled_amount
               + p.in_flight_bank_amount + p.in_flight_books_amount
               + p.missing_in_books_amount + p.missing_in_bank_amount
               + p.adjustments_amount) as unexplained_difference
    from proof as p
)

select * from final
