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

checked as (
    select
        l.*,
        case
            when l.stage not in ('manual', 'return') and p.payment_status in ('failed', 'cancelled') then true
            when l.stage = 'return' and p.payment_status not in ('returned', 'failed', 'cancelled')
                 and l.link_status = 'matched' then true
            else false
        end as statuses_disagree
    from links as l
    inner join payments as p on p.payment_id = l.payment_id
),

final as (
    select
        match_id,
        payment_id,
        bank_line_id,
        rule_id,
        confidence,
        stage,
        case when statuses_disagree then 'exception' else link_status end as link_status,
        case when statuses_disagree then 'status_mismatch' else exception_type end as exception_type,
        reference_level,
        amount_difference,
        date_difference_days
    from checked
)

select * from final
