{#- Every (open bank line, payment) pair whose references agree, with the agreement level.
    Payments here include those settled earlier: returns and duplicate bookings refer to them. -#}
with payments as (
    select * from {{ ref('int_payments_as_of_cycle') }} where end_to_end_id is not null
),

lines as (
    select * from {{ ref('int_open_bank_lines') }} where match_reference is not null
),

pairs as (
    {{ reference_pairs('lines', ['bank_line_id'], 'match_reference', 'payments') }}
),

final as (
    select bank_line_id, payment_id, reference_level from pairs where reference_level > 0
)

select * from final
