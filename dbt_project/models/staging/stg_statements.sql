{#- Statements with their balance proof; a statement belongs to the cycle of its closing date
    (or, without one, of its last booking). -#}
with statements as (
    select * from {{ source('raw', 'statements') }}
),

last_booking as (
    select statement_key, max(booking_date) as last_booking_date
    from {{ source('raw', 'statement_lines') }}
    group by statement_key
),

final as (
    select
        s.statement_key,
        s.source_sha256,
        s.statement_index,
        s.format,
        s.account_iban,
        s.currency,
        s.statement_id,
        s.opening_balance,
        s.closing_balance,
        s.opening_date,
        s.closing_date,
        s.entry_count,
        s.movements,
        s.balanced,
        coalesce(s.closing_date, b.last_booking_date, s.opening_date) as pay_cycle
    from statements as s
    left join last_booking as b on b.statement_key = s.statement_key
)

select * from final
