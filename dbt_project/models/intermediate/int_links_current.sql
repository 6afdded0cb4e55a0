{#- Every link this cycle decided, with the status it gives. Our own status is checked
    against the bank's here: a payment that failed or was cancelled internally but that the
    bank booked, or that the bank returned while we think it completed, is status_mismatch. -#}
with links as (
    select *, 'manual' as match_kind from {{ ref('int_links_manual') }}
    union all
    select *, 'batch' as match_kind from {{ ref('int_links_batch') }}
    union all
    select *, 'split' as match_kind from {{ ref('int_links_split') }}
    union all
    select *, 'reference' as match_kind from {{ ref('int_links_reference') }}
    union all
    select *, 'amount_date_name' as match_kind from {{ ref('int_links_amount_date_name') }}
    union all
    select *, 'return' as match_kind from {{ ref('int_links_return') }}
),

payments as (
    select payment_id, payment_status from {{ ref('int_payments_as_of_cycle') }}
),

checked as (
    select
        l.*,
        case
            when l.match_kind not in ('manual', 'return') and p.payment_status in ('failed', 'cancelled') then true
            when l.match_kind = 'return' and p.payment_status not in ('returned', 'failed', 'cancelled')
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
        match_kind,
        case when statuses_disagree then 'exception' else link_status end as link_status,
        case when statuses_disagree then 'status_mismatch' else exception_type end as exception_type,
        reference_level,
        amount_difference,
        date_difference_days
    from checked
)

select * from final
