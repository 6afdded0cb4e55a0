{#- Stage 5: returns. A bank line moving money back (the opposite sign of the payment) that
    carries the reference of a payment we sent links to that same payment, next to the
    original debit. A reason code missing from the configured list is the exception
    unknown_return_reason; a return of a payment we still think completed is status_mismatch
    (decided in int_links_current). -#}
with rules as (
    select * from {{ ref('matching_rules') }} where enabled and strategy = 'return'
),

reason_codes as (
    select code from {{ ref('return_reason_codes') }}
),

used as (
    {{ linked_by_stages(['int_links_manual', 'int_links_batch', 'int_links_split', 'int_links_reference', 'int_links_amount_date_name']) }}
),

settled_payments as (
    select payment_id from used
    union
    select payment_id from {{ ref('int_prior_links') }}
),

payments as (
    select * from {{ ref('int_payments_as_of_cycle') }}
),

lines as (
    select l.* from {{ ref('int_open_bank_lines') }} as l
    where not exists (select 1 from used as u where u.bank_line_id = l.bank_line_id)
),

-- Equality joins first: pair to payment by id here (materialized), to line by id below.
payment_pairs as materialized (
    {{ pairs_with_payment(ref('int_reference_pairs'), 'payments', [
        'p.signed_amount', 'p.currency', 'p.sent_cycle', 'p.return_reason', 'p.payment_status',
        'exists (select 1 from settled_payments as s where s.payment_id = p.payment_id) as is_settled']) }}
),

candidates as (
    select
        p.payment_id,
        p.bank_line_id,
        p.reference_level,
        l.amount + p.signed_amount as amount_difference,
        {{ days_between('p.sent_cycle', 'l.booking_date') }} as date_difference_days,
        coalesce(l.return_reason, p.return_reason) as return_reason,
        l.is_reversal,
        r.rule_id,
        r.confidence,
        r.amount_tolerance,
        row_number() over (partition by p.bank_line_id order by p.reference_level desc, p.payment_id) as line_rank,
        count(*) over (partition by p.bank_line_id, p.reference_level) as equally_good_payments
    from payment_pairs as p
    inner join lines as l on l.bank_line_id = p.bank_line_id
    cross join rules as r
    where p.reference_level >= r.min_reference_level
      and sign(l.amount) = -sign(p.signed_amount)
      and l.currency = p.currency
      and abs(l.amount + p.signed_amount) <= coalesce(r.amount_tolerance, 0)
      and (p.is_settled or p.payment_status = 'returned')
      and {{ days_between('p.sent_cycle', 'l.booking_date') }}
          between -r.date_window_before_days and r.date_window_after_days
),

classified as (
    select
        *,
        case
            when return_reason in (select code from reason_codes) then 'matched'
            when return_reason is null and is_reversal then 'matched'
            else 'exception'
        end as link_status
    from candidates
    where line_rank = 1 and equally_good_payments = 1
),

final as (
    select
        {{ link_columns(id_of('m', ['payment_id', 'bank_line_id']), 'rule_id', 'confidence', 'link_status',
                        "case when link_status = 'exception' then 'unknown_return_reason' end",
                        'reference_level', 'amount_difference', 'date_difference_days') }}
    from classified
)

select * from final
