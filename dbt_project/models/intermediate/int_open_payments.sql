{#- Payments still open when this cycle's matching starts: sent up to this cycle, not linked by
    an earlier cycle, not closed by an operator. This is the carry-forward. -#}
with payments as (
    select * from {{ ref('int_payments_as_of_cycle') }}
),

prior_links as (
    select distinct payment_id from {{ ref('int_prior_links') }}
),

closed as (
    select item_id from {{ ref('int_closed_items') }} where item_type = 'payment'
),

final as (
    select
        p.*,
        {{ days_between('p.sent_cycle', pay_cycle()) }} as age_days
    from payments as p
    where not exists (select 1 from prior_links as k where k.payment_id = p.payment_id)
      and not exists (select 1 from closed as c where c.item_id = p.payment_id)
)

select * from final
