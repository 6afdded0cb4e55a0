{#- Booked bank lines, deduplicated by content id: the same booking delivered in two files
    (a re-sent statement, an intraday report followed by the day's statement) counts once,
    attributed deterministically to the lowest (file sha256, position). -#}
with source as (
    select * from {{ source('raw', 'statement_lines') }}
),

booked as (
    select
        *,
        row_number() over (partition by bank_line_id order by source_sha256, position) as delivery_rank
    from source
    where entry_status = 'BOOK'
      and booking_date is not null
      and amount <> 0
),

final as (
    select
        bank_line_id,
        account_iban,
        currency,
        booking_date,
        value_date,
        amount,
        bank_reference,
        customer_reference,
        end_to_end_id,
        -- MT940 banks often put our reference (cut to 16 characters) in the :61: customer
        -- reference instead of /EREF/; use it when no end-to-end id was given.
        coalesce(end_to_end_id, nullif(nullif(customer_reference, 'NONREF'), '')) as match_reference,
        batch_id,
        batch_count,
        return_reason,
        counterparty_name,
        counterparty_iban,
        remittance_info,
        transaction_code,
        is_reversal,
        detail_count,
        source_file,
        source_sha256,
        position,
        booking_date as pay_cycle
    from booked
    where delivery_rank = 1
)

select * from final
