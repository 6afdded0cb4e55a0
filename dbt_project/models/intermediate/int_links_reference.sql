{#- Stage 3: one-to-one matching on the end-to-end reference, with one global assignment.

    Every candidate pair takes the best (lowest priority) reference rule it satisfies: exact,
    normalised, the bank's 16-character cut, fee tolerance, amount mismatch. Then, in up to
    three rounds, a pair is accepted only when each side is the other's best candidate and the
    bank line has no equally good second payment (that tie is ambiguity, flagged, never
    guessed). Two equally good bank lines for one payment are a duplicate booking: the
    earlier booking (then the earlier line of the statement) wins and the other is flagged downstream. -#}
with rules as (
    select * from {{ ref('matching_rules') }} where enabled and strategy = 'reference'
),

used as (
    {{ linked_by_stages(['int_links_manual', 'int_links_batch', 'int_links_split']) }}
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
        l.booking_date,
        l.statement_page,
        l.position as statement_position,
        l.amount - p.signed_amount as amount_difference,
        abs(l.amount - p.signed_amount) as abs_difference,
        {{ days_between('p.sent_cycle', 'l.booking_date') }} as date_difference_days,
        abs({{ days_between('p.sent_cycle', 'l.booking_date') }}) as abs_date_difference,
        r.rule_id,
        r.priority,
        r.confidence,
        r.yields_status,
        r.exception_type,
        row_number() over (partition by p.payment_id, p.bank_line_id order by r.priority) as rule_rank
    from payment_pairs as p
    inner join lines as l on l.bank_line_id = p.bank_line_id
    cross join rules as r
    where p.reference_level >= r.min_reference_level
      and l.currency = p.currency
      and sign(l.amount) = sign(p.signed_amount)
      and (r.amount_tolerance is null or abs(l.amount - p.signed_amount) <= r.amount_tolerance)
      and (coalesce(r.amount_tolerance_pct, 0) = 0
           or abs(l.amount - p.signed_amount) <= abs(p.signed_amount) * r.amount_tolerance_pct / 100)
      and {{ days_between('p.sent_cycle', 'l.booking_date') }}
          between -r.date_window_before_days and r.date_window_after_days
),

best_rule as (
    select * from candidates where rule_rank = 1
),

accepted_0 as (
    select payment_id, bank_line_id, rule_id, confidence, yields_status, exception_type,
           reference_level, amount_difference, date_difference_days
    from best_rule
    where 1 = 0
),

{% for round in range(1, 4) %}
ranked_{{ round }} as (
    select
        c.*,
        row_number() over (
            partition by c.payment_id
            order by c.priority, c.abs_difference, c.abs_date_difference, c.booking_date,
                     c.statement_page, c.statement_position, c.bank_line_id
        ) as payment_rank,
        row_number() over (
            partition by c.bank_line_id
            order by c.priority, c.abs_difference, c.abs_date_difference, c.payment_id
        ) as line_rank,
        count(*) over (
            partition by c.bank_line_id, c.priority, c.abs_difference, c.abs_date_difference
        ) as equally_good_payments
    from best_rule as c
    where not exists (select 1 from accepted_{{ round - 1 }} as a where a.payment_id = c.payment_id)
      and not exists (select 1 from accepted_{{ round - 1 }} as a where a.bank_line_id = c.bank_line_id)
),

accepted_{{ round }} as (
    select * from accepted_{{ round - 1 }}
    union all
    select payment_id, bank_line_id, rule_id, confidence, yields_status, exception_type,
           reference_level, amount_difference, date_difference_days
    from ranked_{{ round }}
    where payment_rank = 1 and line_rank = 1 and equally_good_payments = 1
),
{% endfor %}

final as (
    select
        {{ link_columns(id_of('m', ['payment_id', 'bank_line_id']), 'rule_id',
                        'confidence', 'yields_status', 'exception_type',
                        'reference_level', 'amount_difference', 'date_difference_days') }}
    from accepted_3
)

select * from final
