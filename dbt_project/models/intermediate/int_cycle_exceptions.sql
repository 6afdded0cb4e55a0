{#- The exceptions this cycle's matching detects, before operators' resolutions apply:
    link-level problems (fee, amount, status, unknown return reason), open items past the
    settlement window (missing_in_bank / missing_in_books), duplicate bookings and ambiguous
    candidates. Ids are derived from (type, payment, bank line) so an exception keeps its id
    from the cycle it opens until it is resolved. Our own services' disagreements
    (int_internal_breaks, CONTRACT §6) join them with their evidence: the participant service,
    the entry's value and the participant's (null for the other types). -#}
with links as (
    select * from {{ ref('int_links_current') }}
    where exception_type is not null
),

payments as (
    select * from {{ ref('int_payments_as_of_cycle') }}
),

lines as (
    select * from {{ ref('stg_bank_lines') }}
),

flags as (
    select * from {{ ref('int_unlinked_flags') }}
),

linked_payments as (
    select payment_id from {{ ref('int_links_current') }}
),

linked_lines as (
    select bank_line_id from {{ ref('int_links_current') }}
),

link_exceptions as (
    select
        l.exception_type,
        l.payment_id,
        l.bank_line_id,
        p.account_iban,
        p.amount,
        l.amount_difference,
        p.currency,
        least(p.sent_cycle, b.booking_date) as item_cycle
    from links as l
    inner join payments as p on p.payment_id = l.payment_id
    inner join lines as b on b.bank_line_id = l.bank_line_id
),

missing_in_bank as (
    select
        'missing_in_bank' as exception_type,
        p.payment_id,
        cast(null as varchar) as bank_line_id,
        p.account_iban,
        p.amount,
        cast(null as decimal(20,5)) as amount_difference,
        p.currency,
        p.sent_cycle as item_cycle
    from {{ ref('int_open_payments') }} as p
    where p.payment_id not in (select payment_id from linked_payments)
      and {{ past_settlement_window('p.age_days') }}
),

missing_in_books as (
    select
        'missing_in_books' as exception_type,
        cast(null as varchar) as payment_id,
        b.bank_line_id,
        b.account_iban,
        abs(b.amount) as amount,
        cast(null as decimal(20,5)) as amount_difference,
        b.currency,
        b.booking_date as item_cycle
    from {{ ref('int_open_bank_lines') }} as b
    where b.bank_line_id not in (select bank_line_id from linked_lines)
      and b.bank_line_id not in (select bank_line_id from flags)
      and {{ past_settlement_window('b.age_days') }}
),

flagged as (
    select
        f.exception_type,
        f.payment_id,
        f.bank_line_id,
        b.account_iban,
        abs(b.amount) as amount,
        cast(null as decimal(20,5)) as amount_difference,
        b.currency,
        b.booking_date as item_cycle
    from flags as f
    inner join lines as b on b.bank_line_id = f.bank_line_id
),

detected as (
    select * from link_exceptions
    union all
    select * from missing_in_bank
    union all
    select * from missing_in_books
    union all
    select * from flagged
),

final as (
    select
        {{ id_of('ex', ['exception_type', 'payment_id', 'bank_line_id']) }} as exception_id,
        exception_type,
        payment_id,
        bank_line_id,
        account_iban,
        amount,
        amount_difference,
        currency,
        item_cycle,
        cast(null as varchar) as service,
        cast(null as varchar) as expected_value,
        cast(null as varchar) as reported_value
    from detected
    union all
    select * from {{ ref('int_internal_breaks') }}
)

select * from final
