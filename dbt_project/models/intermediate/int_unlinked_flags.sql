{#- Open items this cycle could not link, and why they are special: a second booking of an
    already settled payment (duplicate_booking), or several equally good candidates
    (ambiguous_match). Everything else open is just unmatched, or missing after the window. -#}
with rules as (
    select * from {{ ref('matching_rules') }} where enabled
),

fee_tolerance as (
    select coalesce(max(amount_tolerance), 0) as tolerance
    from rules
    where strategy = 'reference' and yields_status in ('matched', 'partial_match')
),

current_links as (
    select payment_id, bank_line_id from {{ ref('int_links_current') }}
),

settled_payments as (
    select payment_id from current_links
    union
    select payment_id from {{ ref('int_prior_links') }}
),

payments as (
    select * from {{ ref('int_payments_as_of_cycle') }}
),

open_lines as (
    select l.* from {{ ref('int_open_bank_lines') }} as l
    where not exists (select 1 from current_links as c where c.bank_line_id = l.bank_line_id)
),

open_payments as (
    select p.* from {{ ref('int_open_payments') }} as p
    where not exists (select 1 from current_links as c where c.payment_id = p.payment_id)
),

-- Equality joins first: pair to payment by id here (materialized), to line by id below.
settled_pairs as materialized (
    {{ pairs_with_payment(ref('int_reference_pairs'), 'payments', ['p.signed_amount']) }}
    where exists (select 1 from settled_payments as s where s.payment_id = p.payment_id)
),

open_pairs as materialized (
    {{ pairs_with_payment(ref('int_reference_pairs'), 'open_payments', ['p.signed_amount']) }}
),

duplicates as (
    select
        l.bank_line_id,
        min(p.payment_id) as payment_id
    from open_lines as l
    inner join settled_pairs as p on p.bank_line_id = l.bank_line_id
    cross join fee_tolerance as f
    where sign(l.amount) = sign(p.signed_amount)
      and abs(l.amount - p.signed_amount) <= f.tolerance
    group by l.bank_line_id
),

reference_ambiguity as (
    select p.bank_line_id
    from open_pairs as p
    inner join open_lines as l on l.bank_line_id = p.bank_line_id
    where sign(l.amount) = sign(p.signed_amount)
      and not exists (select 1 from duplicates as d where d.bank_line_id = l.bank_line_id)
    group by p.bank_line_id
    having count(*) >= 2
),

name_rule as (
    select * from rules where strategy = 'amount_date_name'
),

look_alike_pairs as (
    select l.bank_line_id, p.payment_id
    from open_lines as l
    inner join open_payments as p
        on p.account_iban = l.account_iban and p.currency = l.currency and p.signed_amount = l.amount
    cross join name_rule as r
    where l.match_reference is null
      and {{ days_between('p.sent_cycle', 'l.booking_date') }}
          between -r.date_window_before_days and r.date_window_after_days
      and {{ name_similarity('l.counterparty_name', 'p.counterparty_name') }} >= coalesce(r.min_name_similarity, 0)
),

-- ambiguous either way: a line with two look-alike payments, or a payment with two look-alike lines
look_alikes as (
    select distinct bank_line_id
    from (
        select
            bank_line_id,
            count(*) over (partition by bank_line_id) as payments_per_line,
            count(*) over (partition by payment_id) as lines_per_payment
        from look_alike_pairs
    ) as counted
    where payments_per_line >= 2 or lines_per_payment >= 2
),

final as (
    select bank_line_id, payment_id, 'duplicate_booking' as exception_type from duplicates
    union all
    select bank_line_id, cast(null as varchar) as payment_id, 'ambiguous_match' as exception_type
    from reference_ambiguity
    union all
    select bank_line_id, cast(null as varchar) as payment_id, 'ambiguous_match' as exception_type
    from look_alikes as a
    where not exists (select 1 from reference_ambiguity as r where r.bank_line_id = a.bank_line_id)
      and not exists (select 1 from duplicates as d where d.bank_line_id = a.bank_line_id)
)

select * from final
