{#- The participants of every tracked processing, each beside the entry's view it is compared
    with, as of the end of the cycle being built. Participants are the services the entry's
    flow names (internal_consistency.flows) plus any other service that reported the processing
    (participants register by reporting). A processing is tracked once the entry has sent it.
    The deadlines (report_within, late_after) and whether a disagreement is still younger than
    the grace period are stated here, as facts at the cycle's end; int_internal_breaks turns
    them into exceptions. -#}
with views as (
    select * from {{ ref('int_service_views') }}
),

payments as (
    select * from {{ ref('int_payments_as_of_cycle') }}
),

flows as (
    {{ internal_flow_rows() }}
),

entries as (
    select v.payment_id, v.service as entry_service, v.sent_at as entry_sent_at,
           v.latest_status_at as entry_status_at
    from views as v
    where v.is_entry and v.sent_at is not null
),

reporters as (
    select * from views where not is_entry
),

expected as (
    select e.payment_id, f.service
    from entries as e
    inner join flows as f on f.entry_service = e.entry_service
),

participants as (
    select payment_id, service from expected
    union
    select payment_id, service from reporters
),

compared as (
    select
        pt.payment_id,
        e.entry_service,
        pt.service,
        x.service is not null as is_expected,
        p.account_iban,
        p.currency,
        p.sent_cycle,
        e.entry_sent_at,
        p.amount as entry_amount,
        p.payment_status as entry_status,
        e.entry_status_at,
        r.first_reported_at,
        r.latest_amount,
        r.latest_amount_since,
        r.latest_status,
        r.latest_status_at,
        {{ plus_minutes('e.entry_sent_at', 'report_within_minutes') }} as report_deadline,
        {{ plus_minutes('e.entry_sent_at', 'late_after_minutes') }} as late_after,
        r.latest_amount is not null and r.latest_amount <> p.amount as amount_disagrees,
        coalesce((p.payment_status = 'completed' and r.latest_status in ('failed', 'cancelled'))
                 or (r.latest_status = 'completed' and p.payment_status in ('failed', 'cancelled')),
                 false) as status_disagrees
    from participants as pt
    inner join entries as e on e.payment_id = pt.payment_id
    inner join payments as p on p.payment_id = pt.payment_id
    left join expected as x on x.payment_id = pt.payment_id and x.service = pt.service
    left join reporters as r on r.payment_id = pt.payment_id and r.service = pt.service
),

final as (
    select
        *,
        case when amount_disagrees
             then greatest(entry_sent_at, latest_amount_since) end as amount_disagrees_since,
        case when status_disagrees
             then greatest(entry_status_at, latest_status_at) end as status_disagrees_since,
        -- A disagreement younger than late_after is still in flight (CONTRACT §6), not a break.
        (amount_disagrees
            and {{ plus_minutes('greatest(entry_sent_at, latest_amount_since)', 'late_after_minutes') }}
                > {{ cycle_end_utc() }})
        or (status_disagrees
            and {{ plus_minutes('greatest(entry_status_at, latest_status_at)', 'late_after_minutes') }}
                > {{ cycle_end_utc() }}) as disagreement_in_flight
    from compared
)

select * from final
