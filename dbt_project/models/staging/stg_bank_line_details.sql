{#- Transaction details of the deduplicated bank lines (one row per camt TxDtls). -#}
with lines as (
    select bank_line_id, source_sha256, position, amount as line_amount from {{ ref('stg_bank_lines') }}
),

details as (
    select * from {{ source('raw', 'statement_line_details') }}
),

final as (
    select
        d.bank_line_id,
        d.detail_index,
        d.end_to_end_id,
        -- Detail amounts are given unsigned by most banks; take the parent line's sign.
        case when l.line_amount < 0 then -abs(d.amount) else abs(d.amount) end as amount,
        d.payment_info_id,
        d.counterparty_name,
        d.counterparty_iban,
        d.remittance_info,
        d.return_reason
    from details as d
    inner join lines as l
        on l.bank_line_id = d.bank_line_id
       and l.source_sha256 = d.source_sha256
       and l.position = d.position
)

select * from final
