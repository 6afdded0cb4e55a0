{{ config(materialized="view") }}
{#- Every payment event visible at the end of the cycle being built, with the processing's
    entry service and whether the event is the entry's own (CONTRACT §6). The entry service is
    the service of the processing's first event (ties: lifecycle order, then event id); events
    with no service belong to it. Only the entry's events make the state we reconcile with the
    bank, so a participant's late payment.failed cannot overwrite it. Without an
    internal_consistency section every event is the payment's own, exactly as before §6. -#}
with events as (
    select * from {{ ref('stg_payment_events') }}
    where occurred_at < {{ cycle_end_utc() }}
),

ordered as (
    select
        payment_id,
        service,
        row_number() over (
            partition by payment_id
            order by occurred_at, {{ event_lifecycle_rank('event_type') }}, event_id
        ) as arrival_rank
    from events
),

entries as (
    select payment_id, service as entry_service
    from ordered
    where arrival_rank = 1
),

final as (
    select
        e.*,
        n.entry_service,
        case when not {{ internal_consistency_enabled() }} then true
             when e.service is null then true
             when e.service = n.entry_service then true
             else false end as is_entry_event
    from events as e
    inner join entries as n on n.payment_id = e.payment_id
)

select * from final
