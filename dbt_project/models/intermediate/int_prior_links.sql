{#- Links decided by earlier pay cycles. Items linked there are settled and not matched again. -#}
with prior as (
    {{ prior_cycle_rows('fct_reconciliation_links',
        "select cast(null as varchar) as match_id, cast(null as varchar) as payment_id,
                cast(null as varchar) as bank_line_id, cast(null as varchar) as rule_id,
                cast(null as date) as pay_cycle where 1 = 0") }}
),

final as (
    select match_id, payment_id, bank_line_id, rule_id, pay_cycle from prior
)

select * from final
