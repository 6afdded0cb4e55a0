{#- Stage 1: one bank entry against N payments (1:N).
    R01 batch_details: the entry's transaction details carry our end-to-end ids; every detail
        must map to exactly one open payment, and the payments must sum to the entry.
    R02 batch_id_sum: the entry carries our batch id; the batch's open payments sum to it.
    A partially settled batch (four of five) matches the four whose details are present and
    leaves the fifth open. -#}
with rules as (
    select * from {{ ref('matching_rules') }} where enabled
),

used as (
    {{ linked_by_stages(['int_links_manual']) }}
),

payments as (
    select p.* from {{ ref('int_open_payments') }} as p
    where not exists (select 1 from used as u where u.payment_id = p.payment_id)
),

lines as (
    select l.* from {{ ref('int_open_bank_lines') }} as l
    where not exists (select 1 from used as u where u.bank_line_id = l.bank_line_id)
),

detail_rule as (
    select * from rules where strategy = 'batch_details'
),

-- Equality joins first: pair to payment by id here (materialized), to line by id below.
detail_payment_pairs as materialized (
    {{ pairs_with_payment(ref('int_detail_reference_pairs'), 'payments') }}
),

detail_candidates as (
    select
        p.bank_line_id,
        p.detail_index,
        p.payment_id,
        p.reference_level,
        p.signed_amount,
        {{ days_between('p.sent_cycle', 'l.booking_date') }} as date_difference_days,
        r.rule_id,
        r.confidence,
        r.amount_tolerance
    from detail_payment_pairs as p
    inner join lines as l on l.bank_line_id = p.bank_line_id
    cross join detail_rule as r
    where l.detail_count >= 2
      and p.reference_level >= r.min_reference_level
      and sign(p.signed_amount) = sign(l.amount)
      and p.currency = l.currency
      and {{ days_between('p.sent_cycle', 'l.booking_date') }}
          between -r.date_window_before_days and r.date_window_after_days
),

-- A detail must point at one payment, and a payment be claimed by one detail, or it is ambiguous.
unique_candidates as (
    select *
    from (
        select
            *,
            count(*) over (partition by bank_line_id, detail_index) as payments_per_detail,
            count(*) over (partition by payment_id) as details_per_payment
        from detail_candidates
    ) as c
    where payments_per_detail = 1 and details_per_payment = 1
),

detail_counts as (
    select bank_line_id, count(*) as details_with_reference
    from {{ ref('stg_bank_line_details') }}
    where end_to_end_id is not null
    group by bank_line_id
),

detail_lines as (
    select
        c.bank_line_id,
        min(c.rule_id) as rule_id,
        min(c.confidence) as confidence,
        max(c.amount_tolerance) as amount_tolerance,
        count(*) as mapped_details,
        sum(c.signed_amount) as payments_total,
        min(c.reference_level) as reference_level,
        max(c.date_difference_days) as date_difference_days
    from unique_candidates as c
    group by c.bank_line_id
),

detail_matches as (
    select c.payment_id, c.bank_line_id, d.rule_id, d.confidence, d.reference_level,
           l.amount - d.payments_total as amount_difference, d.date_difference_days
    from detail_lines as d
    inner join lines as l on l.bank_line_id = d.bank_line_id
    inner join detail_counts as dc on dc.bank_line_id = d.bank_line_id
    inner join unique_candidates as c on c.bank_line_id = d.bank_line_id
    where d.mapped_details = dc.details_with_reference
      and abs(l.amount - d.payments_total) <= coalesce(d.amount_tolerance, 0)
),

batch_rule as (
    select * from rules where strategy = 'batch_id_sum'
),

batch_lines as (
    select l.*, {{ normalise_ref('l.batch_id') }} as batch_key
    from lines as l
    where l.batch_id is not null
      and not exists (select 1 from detail_matches as m where m.bank_line_id = l.bank_line_id)
),

batch_payments as (
    select p.*, {{ normalise_ref('p.batch_id') }} as batch_key
    from payments as p
    where p.batch_id is not null
      and not exists (select 1 from detail_matches as m where m.payment_id = p.payment_id)
),

batch_totals as (
    select account_iban, currency, batch_key, sum(signed_amount) as payments_total, count(*) as payment_count,
           min(sent_cycle) as first_sent_cycle
    from batch_payments
    group by account_iban, currency, batch_key
),

batch_line_candidates as (
    select
        l.bank_line_id,
        l.account_iban,
        l.currency,
        l.batch_key,
        l.amount - t.payments_total as amount_difference,
        {{ days_between('t.first_sent_cycle', 'l.booking_date') }} as date_difference_days,
        r.rule_id,
        r.confidence,
        count(*) over (partition by l.account_iban, l.batch_key) as lines_per_batch
    from batch_lines as l
    inner join batch_totals as t
        on t.account_iban = l.account_iban and t.batch_key = l.batch_key and t.currency = l.currency
    cross join batch_rule as r
    where t.payment_count >= 2
      and abs(l.amount - t.payments_total) <= coalesce(r.amount_tolerance, 0)
      and {{ days_between('t.first_sent_cycle', 'l.booking_date') }}
          between -r.date_window_before_days and r.date_window_after_days
),

batch_matches as (
    select p.payment_id, c.bank_line_id, c.rule_id, c.confidence, 0 as reference_level,
           c.amount_difference, c.date_difference_days
    from batch_line_candidates as c
    inner join batch_payments as p
        on p.account_iban = c.account_iban and p.batch_key = c.batch_key and p.currency = c.currency
    where c.lines_per_batch = 1
),

all_matches as (
    select * from detail_matches
    union all
    select * from batch_matches
),

final as (
    select
        {{ link_columns(id_of('m', ['bank_line_id', "'batch'"]), 'rule_id', 'confidence', "'matched'", 'null',
                        'reference_level', 'amount_difference', 'date_difference_days') }}
    from all_matches
)

select * from final
