{#- What each service has told us about each processing by the end of the cycle being built:
    one row for the entry service's view and one per other reporting service. Kept to facts
    (when it first reported, when it said sent, its latest amount and since when it has said
    it, its latest status and when it said it) so the rules of §6 are applied in one place downstream. Empty unless internal
    consistency is configured. -#}
with events as (
    select * from {{ ref('int_payment_event_roles') }}
    where {{ internal_consistency_enabled() }}
),

attributed as (
    select
        *,
        case when is_entry_event then entry_service else service end as view_service,
        row_number() over (
            partition by payment_id, is_entry_event, case when is_entry_event then entry_service else service end
            order by occurred_at desc, {{ event_lifecycle_rank('event_type') }} desc, event_id desc
        ) as recency
    from events
),

firsts as (
    select
        payment_id,
        is_entry_event,
        view_service,
        min(occurred_at) as first_reported_at,
        min(case when event_type = 'payment.sent' then occurred_at end) as sent_at
    from attributed
    group by payment_id, is_entry_event, view_service
),

latest as (
    select payment_id, is_entry_event, view_service, amount, payment_status, occurred_at
    from attributed
    where recency = 1
),

amount_since as (
    select a.payment_id, a.is_entry_event, a.view_service, min(a.occurred_at) as latest_amount_since
    from attributed as a
    inner join latest as l
        on l.payment_id = a.payment_id
       and l.is_entry_event = a.is_entry_event
       and coalesce(l.view_service, '~') = coalesce(a.view_service, '~')
       and l.amount = a.amount
    group by a.payment_id, a.is_entry_event, a.view_service
),

final as (
    select
        f.payment_id,
        f.view_service as service,
        f.is_entry_event as is_entry,
        f.first_reported_at,
        f.sent_at,
        l.amount as latest_amount,
        s.latest_amount_since,
        l.payment_status as latest_status,
        l.occurred_at as latest_status_at
    from firsts as f
    inner join latest as l
        on l.payment_id = f.payment_id
       and l.is_entry_event = f.is_entry_event
       and coalesce(l.view_service, '~') = coalesce(f.view_service, '~')
    inner join amount_since as s
        on s.payment_id = f.payment_id
       and s.is_entry_event = f.is_entry_event
       and coalesce(s.view_service, '~') = coalesce(f.view_service, '~')
)

select * from final
