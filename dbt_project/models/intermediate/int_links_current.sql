{#- Every link this cycle decided, with the status it gives. Our own status is checked
    against the bank's here: a payment that failed or was cancelled internally but that the
    bank booked, or that the bank returned while we think it completed, is status_mismatch. -#}
with links as (
    select *, 'manual' as stage from {{ ref('int_links_manual') }}
    union all
    select *, 'batch' as stage from {{ ref('int_links_batch') }}
    union all
    select *, 'split' as stage from {{ ref('int_links_split') }}
    union all
    select *, 'reference' as stage from {{ ref('int_links_reference') }}
    union all
    select *, 'amount_date_name' as stage from {{ ref('int_links_amount_date_name') }}
    union all
    select *, 'return' as stage from {{ ref('int_links_return') }}
),

payments as (
    select payment_id, payment_status from {{ ref('int_payments_as_of_cycle') }}
),

final as (
    select
        l.match_id,
        l.payment_id,
        l.bank_line_id,
        l.rule_id,
        l.confidence,
        l.stage,
        case
            when l.stage <> 'manual' and l.stage <> 'return' and p.payment_status in ('failed', 'cancelled')
                then 'exception'
            when l.stage = 'return' and p.payment_status not in ('returned', 'failed', 'cancelled')
                 and l.link_status = 'matched'
                then 'exception'
            else l.link_status
        end as link_status,
        case
            when l.stage <> 'manual' and l.stage <> 'return' and p.payment_status in ('failed', 'cancelled')
                then 'status_mismatch'
            when l.stage = 'return' and p.payment_status not in ('returned', 'failed', 'cancelled')
                 and l.link_status = 'matched'
                then 'status_mismatch'
            else l.exception_type
        end as exception_type,
        l.reference_level,
        l.amount_difference,
        l.date_difference_days
    from links as l
    inner join payments as p on p.payment_id = l.payment_id
)

select * from final
