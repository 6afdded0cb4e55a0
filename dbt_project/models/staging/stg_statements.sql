{#- Statements with their balance proof; a statement belongs to the cycle of its closing date
    (or, without one, of its last booking; macros/delivery_rules.sql). A statement that reports bookings already reported
    is left out, so its movements count once (CONTRACT §1.2): the same statement re-sent under
    a new message id (same account, period, balances, movements and entry count: the first by
    file sha256 is kept), and an intraday report or notification (camt.052/054, MT942) on a
    day the account also has an end-of-day statement. -#}
with statements as (
    select * from {{ source('raw', 'statements') }}
),

last_booking as (
    select statement_key, max(booking_date) as last_booking_date
    from {{ source('raw', 'statement_lines') }}
    group by statement_key
),

dated as (
    select
        s.*,
        {{ intraday_statement_rank('s.format') }} as is_intraday,
        {{ statement_pay_cycle('s', 'b.last_booking_date') }} as pay_cycle
    from statements as s
    left join last_booking as b on b.statement_key = s.statement_key
),

ranked as (
    select
        *,
        row_number() over (
            partition by account_iban, currency, opening_date, closing_date, opening_balance,
                         closing_balance, movements, entry_count
            order by is_intraday, source_sha256, statement_index
        ) as resend_rank,
        -- 1 when every report of the account's day is intraday (no end-of-day statement)
        min(is_intraday) over (partition by account_iban, pay_cycle) as day_is_intraday_only
    from dated
),

final as (
    select
        statement_key,
        source_sha256,
        statement_index,
        format,
        account_iban,
        currency,
        statement_id,
        opening_balance,
        closing_balance,
        opening_date,
        closing_date,
        entry_count,
        movements,
        balanced,
        page_number,
        pay_cycle
    from ranked
    where resend_rank = 1
      and not (is_intraday = 1 and day_is_intraday_only = 0)
)

select * from final
