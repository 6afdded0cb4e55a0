{#- Booked bank lines, one per bank_line_id (CONTRACT §1.2): the same booking reported again
    (a statement re-sent under a new message id, an intraday camt.052 followed by the day's
    camt.053) counts once. Lines a blocked cycle holds back (stg_held_items) are left out. The delivery kept is the same run after run: an end-of-day statement
    over an intraday report or notification, then the lowest (file sha256, position). -#}
with source as (
    select * from {{ source('raw', 'statement_lines') }}
),

statements as (
    select * from {{ source('raw', 'statements') }}
),

held as (
    select item_key from {{ ref('stg_held_items') }} where item_kind = 'bank_line'
),

booked as (
    select
        l.*,
        s.page_number as statement_page,
        row_number() over (
            partition by l.bank_line_id
            order by {{ bank_line_delivery_order('l', 's') }}
        ) as delivery_rank
    from source as l
    left join statements as s on s.statement_key = l.statement_key
    where {{ bank_line_is_booked('l') }}
      and l.bank_line_id not in (select item_key from held)
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
        -- A paginated statement's page: its lines come before the next page's, whatever their
        -- position in their own file.
        statement_page,
        booking_date as pay_cycle
    from booked
    where delivery_rank = 1
)

select * from final
