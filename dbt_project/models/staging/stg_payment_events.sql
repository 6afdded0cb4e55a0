{#- Payment events, one row per event_id: redeliveries (the same event at another offset or
    in another file) are dropped, keeping the first delivery by where it came from — origin,
    topic/file, partition, then the offset or line *as a number* (as text '…:10' would sort
    before '…:9'). Events a blocked cycle holds back (stg_held_items) are left out. -#}
with source as (
    select * from {{ source('raw', 'payment_events') }}
),

held as (
    select item_key from {{ ref('stg_held_items') }} where item_kind = 'event'
),

deduplicated as (
    select
        *,
        row_number() over (
            partition by event_id
            order by origin, source, topic, kafka_partition, message_offset, message_key
        ) as delivery_rank
    from source
    where event_id not in (select item_key from held)
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
