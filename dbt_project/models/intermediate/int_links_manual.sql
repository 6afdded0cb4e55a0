{#- Stage 0: links an operator made with `recon match`. They win over every rule. A match
    taken back with `recon match --undo` never happened: it is left out of every cycle. -#}
with undone as (
    select manual_match_id from {{ source('ops', 'manual_match_undos') }}
),

manual as (
    select
        *,
        row_number() over (partition by payment_id, bank_line_id order by matched_at, manual_match_id) as recency
    from {{ source('ops', 'manual_matches') }}
    where effective_cycle <= {{ pay_cycle() }}
      and manual_match_id not in (select manual_match_id from undone)
),

payments as (
    select * from {{ ref('int_open_payments') }}
),

lines as (
    select * from {{ ref('int_open_bank_lines') }}
),

joined as (
    select
        m.payment_id,
        m.bank_line_id,
        {{ reference_level('l.match_reference', 'p.end_to_end_id') }} as reference_level,
        l.amount - p.signed_amount as amount_difference,
        {{ days_between('p.sent_cycle', 'l.booking_date') }} as date_difference_days
    from manual as m
    inner join payments as p on p.payment_id = m.payment_id
    inner join lines as l on l.bank_line_id = m.bank_line_id
    where m.recency = 1
),

final as (
    select
        {{ link_columns(id_of('m', ['payment_id', "'manual'"]), "'MANUAL'", 1, "'matched'", 'null',
                        'reference_level', 'amount_difference', 'date_difference_days') }}
    from joined
)

select * from final
