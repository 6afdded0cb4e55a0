{#- Exceptions as the latest earlier pay cycle left them: carried forward until resolved. -#}
with prior as (
    {{ prior_cycle_rows('fct_exceptions',
        "select cast(null as varchar) as exception_id, cast(null as date) as pay_cycle,
                cast(null as varchar) as exception_type, cast(null as varchar) as payment_id,
                cast(null as varchar) as bank_line_id, cast(null as varchar) as account_iban,
                cast(null as decimal(20,5)) as amount, cast(null as decimal(20,5)) as amount_difference,
                cast(null as varchar) as currency, cast(null as date) as item_cycle,
                cast(null as date) as opened_cycle, cast(null as varchar) as status,
                cast(null as varchar) as resolution,
                cast(null as varchar) as service, cast(null as varchar) as expected_value,
                cast(null as varchar) as reported_value where 1 = 0") }}
),

latest_cycle as (
    select max(pay_cycle) as pay_cycle from prior
),

first_seen as (
    select exception_id, min(opened_cycle) as opened_cycle from prior group by exception_id
),

final as (
    select
        p.exception_id,
        p.exception_type,
        p.payment_id,
        p.bank_line_id,
        p.account_iban,
        p.amount,
        p.amount_difference,
        p.currency,
        p.item_cycle,
        f.opened_cycle,
        p.status,
        p.resolution,
        p.service,
        p.expected_value,
        p.reported_value
    from prior as p
    inner join latest_cycle as c on c.pay_cycle = p.pay_cycle
    inner join first_seen as f on f.exception_id = p.exception_id
)

select * from final
