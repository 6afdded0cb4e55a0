{#- Each payment as our books saw it at the end of the pay cycle being built: attributes from
    its payment.sent event (which also fixes its pay cycle), status from its latest event.
    Events after the cycle's end are invisible, so a late or repeated build sees what an
    on-time build saw. Payments never sent are not expected at the bank and are left out.
    Only the entry service's events count (CONTRACT §6): the other services' reports are
    compared with this view in int_processing_participants, they never change it. -#}
with events as (
    select * from {{ ref('int_payment_event_roles') }}
    where is_entry_event
),

sent as (
    select
        *,
        row_number() over (partition by payment_id order by occurred_at, event_id) as sent_rank
    from events
    where event_type = 'payment.sent'
),

latest as (
    select
        payment_id,
        payment_status,
        row_number() over (
            partition by payment_id
            order by occurred_at desc, {{ event_lifecycle_rank('event_type') }} desc, event_id desc
        ) as recency
    from events
),

returns as (
    select payment_id, max(return_reason) as return_reason
    from events
    where event_type = 'payment.returned'
    group by payment_id
),

final as (
    select
        s.payment_id,
        s.account_iban,
        s.currency,
        s.direction,
        s.amount,
        case when s.direction = 'outgoing' then -s.amount else s.amount end as signed_amount,
        s.end_to_end_id,
        s.batch_id,
        s.counterparty_name,
        s.counterparty_iban,
        s.event_cycle as sent_cycle,
        l.payment_status,
        r.return_reason
    from sent as s
    inner join latest as l on l.payment_id = s.payment_id and l.recency = 1
    left join returns as r on r.payment_id = s.payment_id
    where s.sent_rank = 1
      and s.event_cycle <= {{ pay_cycle() }}
)

select * from final
