{#- Stage 4: a bank line without any reference can still match on amount, booking date and
    counterparty name, but only when the pair is unique on both sides. Two look-alike
    payments (same amount, beneficiary and day) are never guessed between. -#}
with rules as (
    select * from {{ ref('matching_rules') }} where enabled and strategy = 'amount_date_name'
),

used as (
    {{ linked_by_stages(['int_links_manual', 'int_links_batch', 'int_links_split', 'int_links_reference']) }}
),

payments as (
    select p.* from {{ ref('int_open_payments') }} as p
    where not exists (select 1 from used as u where u.payment_id = p.payment_id)
),

lines as (
    select l.* from {{ ref('int_open_bank_lines') }} as l
    where not exists (select 1 from used as u where u.bank_line_id = l.bank_line_id)
      and match_reference is null
      and detail_count <= 1
),

candidates as (
    select
        p.payment_id,
        l.bank_line_id,
        {{ days_between('p.sent_cycle', 'l.booking_date') }} as date_difference_days,
        r.rule_id,
        r.confidence,
        {{ name_similarity('l.counterparty_name', 'p.counterparty_name') }} as name_similarity
    from lines as l
    inner join payments as p
        on p.account_iban = l.account_iban
       and p.currency = l.currency
       and p.signed_amount = l.amount
    cross join rules as r
    where {{ days_between('p.sent_cycle', 'l.booking_date') }}
          between -r.date_window_before_days and r.date_window_after_days
      and {{ name_similarity('l.counterparty_name', 'p.counterparty_name') }} >= coalesce(r.min_name_similarity, 0)
),

counted as (
    select
        *,
        count(*) over (partition by bank_line_id) as payments_per_line,
        count(*) over (partition by payment_id) as lines_per_payment
    from candidates
),

final as (
    select
        {{ link_columns(id_of('m', ['payment_id', 'bank_line_id']), 'rule_id',
                        'confidence * name_similarity', "'matched'", 'null', 0, 0, 'date_difference_days') }}
    from counted
    where payments_per_line = 1 and lines_per_payment = 1
)

select * from final
