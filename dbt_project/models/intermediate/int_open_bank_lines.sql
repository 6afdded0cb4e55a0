{#- Bank lines still open when this cycle's matching starts: booked up to this cycle, not
    linked by an earlier cycle, not closed by an operator. -#}
with lines as (
    select * from {{ ref('stg_bank_lines') }}
    where booking_date <= {{ pay_cycle() }}
),

prior_links as (
    select distinct bank_line_id from {{ ref('int_prior_links') }}
),

closed as (
    select item_id from {{ ref('int_closed_items') }} where item_type = 'bank_line'
),

final as (
    select
        l.*,
        {{ days_between('l.booking_date', pay_cycle()) }} as age_days
    from lines as l
    where not exists (select 1 from prior_links as k where k.bank_line_id = l.bank_line_id)
      and not exists (select 1 from closed as c where c.item_id = l.bank_line_id)
)

select * from final
