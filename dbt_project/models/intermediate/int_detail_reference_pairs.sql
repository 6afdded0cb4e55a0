{#- (transaction detail of an open batch line, open payment) pairs whose references agree. -#}
with payments as (
    select * from {{ ref('int_open_payments') }} where end_to_end_id is not null
),

details as (
    select d.*, l.account_iban
    from {{ ref('stg_bank_line_details') }} as d
    inner join {{ ref('int_open_bank_lines') }} as l on l.bank_line_id = d.bank_line_id
    where d.end_to_end_id is not null
),

pairs as (
    {{ reference_pairs('details', ['bank_line_id', 'detail_index'], 'end_to_end_id', 'payments') }}
),

final as (
    select bank_line_id, detail_index, payment_id, reference_level from pairs where reference_level > 0
)

select * from final
