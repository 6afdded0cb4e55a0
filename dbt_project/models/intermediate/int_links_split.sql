{#- Stage 2: one payment settled as several bank lines (N:1): two or more open lines carrying
    the payment's reference, with its sign, that sum exactly to it. Checked before 1:1 rules
    so a part-settlement is never mistaken for a fee difference. -#}
with rules as (
    select * from {{ ref('matching_rules') }} where enabled and strategy = 'split_sum'
),

used as (
    {{ linked_by_stages(['int_links_manual', 'int_links_batch']) }}
),

payments as (
    select p.* from {{ ref('int_open_payments') }} as p
    where not exists (select 1 from used as u where u.payment_id = p.payment_id)
),

lines as (
    select l.* from {{ ref('int_open_bank_lines') }} as l
    where not exists (select 1 from used as u where u.bank_line_id = l.bank_line_id)
),

-- Equality joins first: pair to payment by id here (materialized), to line by id below.
payment_pairs as materialized (
    {{ pairs_with_payment(ref('int_reference_pairs'), 'payments') }}
),

candidates as (
    select
        p.payment_id,
        p.bank_line_id,
        p.reference_level,
        p.signed_amount,
        l.amount,
        {{ days_between('p.sent_cycle', 'l.booking_date') }} as date_difference_days,
        r.rule_id,
        r.confidence,
        r.amount_tolerance,
        -- a line that could belong to several payments is not split evidence
        count(*) over (partition by p.bank_line_id) as payments_per_line
    from payment_pairs as p
    inner join lines as l on l.bank_line_id = p.bank_line_id
    cross join rules as r
    where p.reference_level >= r.min_reference_level
      and sign(l.amount) = sign(p.signed_amount)
      and l.currency = p.currency
      and abs(l.amount) < abs(p.signed_amount)
      and {{ days_between('p.sent_cycle', 'l.booking_date') }}
          between -r.date_window_before_days and r.date_window_after_days
),

per_payment as (
    select
        payment_id,
        count(*) as line_count,
        sum(amount) as lines_total,
        max(signed_amount) as signed_amount,
        max(amount_tolerance) as amount_tolerance
    from candidates
    where payments_per_line = 1
    group by payment_id
),

final as (
    select
        {{ link_columns(id_of('m', ['c.payment_id', "'split'"]), 'c.rule_id', 'c.confidence', "'matched'", 'null',
                        'c.reference_level', 'pp.lines_total - pp.signed_amount', 'c.date_difference_days',
                        payment_id='c.payment_id', bank_line_id='c.bank_line_id') }}
    from candidates as c
    inner join per_payment as pp on pp.payment_id = c.payment_id
    where c.payments_per_line = 1
      and pp.line_count >= 2
      and abs(pp.lines_total - pp.signed_amount) <= coalesce(pp.amount_tolerance, 0)
)

select * from final
