{#- Payment events, one row per event_id: redeliveries (the same event at another offset or
    in another file) are dropped, keeping the first delivery by message key. -#}
with source as (
    select * from {{ source('raw', 'payment_events') }}
),

deduplicated as (
    select
        *,
        row_number() over (partition by event_id order by message_key) as delivery_rank
    from source
),

final as (
    select
        event_id,
        event_type,
        replace(event_type, 'payment.', '') as payment_status,
        occurred_at,
        {{ cycle_date_of('occurred_at') }} as event_cycle,
        payment_id,
        end_to_end_id,
        batch_id,
        amount,
        currency,
        direction,
        account_iban,
        counterparty_name,
        counterparty_iban,
        return_reason,
        service,
        message_key
    from deduplicated
    where delivery_rank = 1
)

select * from final
