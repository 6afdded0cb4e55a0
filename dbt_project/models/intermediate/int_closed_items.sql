{#- Items an operator closed in an earlier cycle (accepted or adjusted): no longer open. -#}
with resolutions as (
    select * from {{ ref('int_operator_resolutions') }}
    where closes_items and effective_cycle < {{ pay_cycle() }}
),

exceptions as (
    {{ prior_cycle_rows('fct_exceptions',
        "select cast(null as varchar) as exception_id, cast(null as varchar) as payment_id,
                cast(null as varchar) as bank_line_id, cast(null as date) as pay_cycle where 1 = 0") }}
),

items as (
    select distinct e.payment_id, e.bank_line_id
    from exceptions as e
    inner join resolutions as r on r.exception_id = e.exception_id
),

final as (
    select payment_id as item_id, 'payment' as item_type from items where payment_id is not null
    union
    select bank_line_id as item_id, 'bank_line' as item_type from items where bank_line_id is not null
)

select * from final
