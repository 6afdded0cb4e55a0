{{ config(materialized='incremental', incremental_strategy='append', on_schema_change='append_new_columns', pre_hook="{{ delete_cycle_slice() }}") }}
{#- The exceptions of a pay cycle as finance reviews them (the close pack's Exceptions sheet):
    every column of fct_exceptions, the amount at stake (the fee or difference on a link, not
    the gross payment), and both sides side by side. The bank side is looked up across every
    cycle (an exception opened earlier, or a line booked days before, still shows its bank
    reference and counterparty); the payment side likewise, so a missing_in_bank row names its
    counterparty from our books. -#}
with exceptions as (
    select * from {{ ref('fct_exceptions') }} where pay_cycle = {{ pay_cycle() }}
),

payments as (
    select * from {{ ref('int_payments_as_of_cycle') }}
),

lines as (
    select * from {{ ref('stg_bank_lines') }}
),

final as (
    select
        e.*,
        {{ amount_at_stake('e.exception_type', 'e.amount', 'e.amount_difference') }} as amount_at_stake,
        p.direction as payment_direction,
        p.signed_amount as payment_amount,
        p.end_to_end_id as payment_end_to_end_id,
        p.counterparty_name as payment_counterparty,
        p.sent_cycle as payment_sent_cycle,
        b.bank_reference,
        b.amount as bank_amount,
        b.booking_date as bank_booking_date,
        b.counterparty_name as bank_counterparty,
        b.end_to_end_id as bank_end_to_end_id
    from exceptions as e
    left join payments as p on p.payment_id = e.payment_id
    left join lines as b on b.bank_line_id = e.bank_line_id
)

select * from final
