{{ config(materialized='incremental', incremental_strategy='append', on_schema_change='append_new_columns',
          pre_hook="{{ delete_cycle_slice() }}") }}
{#- One row per exception per pay cycle while it is open, and once more in the cycle it is
    resolved. Link-level exceptions (fee, amount, status, return reason) carry forward until an
    operator resolves them; open-item exceptions are re-derived every cycle and clear
    themselves (resolution auto_cleared) when the item settles. Operators' resolutions come
    from the append-only ops.exception_resolutions log: a status, never an edit.
    A timing decision shows as resolved (resolution timing) each cycle while the item may
    still match; the match clears it (auto_cleared), and when the window counted from the
    decision passes without one it is open again (resolution timing_expired). -#}
with detected as (
    select * from {{ ref('int_cycle_exceptions') }}
),

prior as (
    select * from {{ ref('int_prior_exceptions') }}
),

resolutions as (
    select * from {{ ref('int_operator_resolutions') }}
),

routing as (
    select * from {{ ref('exception_routing') }}
),

escalation_routes as (
    select * from {{ ref('int_escalation_routes') }}
),

aging_buckets as (
    select * from {{ ref('aging_buckets') }}
),

sla as (
    select * from {{ ref('exception_sla') }}
),

carried as (
    select exception_id, exception_type, payment_id, bank_line_id, account_iban, amount,
           amount_difference, currency, item_cycle, service, expected_value, reported_value
    from prior
    where status = 'open'
      and exception_type in ('amount_mismatch', 'probable_fee', 'status_mismatch', 'unknown_return_reason')
      and exception_id not in (select exception_id from detected)
),

-- open items that settled since the last cycle, and timing decisions whose item matched
cleared as (
    select exception_id, exception_type, payment_id, bank_line_id, account_iban, amount,
           amount_difference, currency, item_cycle, service, expected_value, reported_value
    from prior
    where (status = 'open' or (status = 'resolved' and resolution = 'timing'))
      and exception_type not in ('amount_mismatch', 'probable_fee', 'status_mismatch', 'unknown_return_reason')
      and exception_id not in (select exception_id from detected)
),

all_exceptions as (
    select *, false as auto_cleared from detected
    union all
    select *, false as auto_cleared from carried
    union all
    select *, true as auto_cleared from cleared
),

routed as (
    select
        e.*,
        r.assigned_team,
        r.priority,
        row_number() over (partition by e.exception_id order by r.rank) as route_rank
    from all_exceptions as e
    left join routing as r
        on r.exception_type = e.exception_type
       and coalesce(e.amount, 0) >= r.min_amount
),

opened as (
    select exception_id, min(opened_cycle) as opened_cycle from prior group by exception_id
),

decided as (
    select
        e.exception_id,
        {{ pay_cycle() }} as pay_cycle,
        e.exception_type,
        e.payment_id,
        e.bank_line_id,
        e.account_iban,
        e.amount,
        e.amount_difference,
        e.currency,
        -- each escalation moves the exception one step along seeds/escalation_path.csv
        coalesce(esc.escalated_team, e.assigned_team, 'unassigned') as assigned_team,
        'P' || cast(greatest(1, cast(substr(coalesce(e.priority, 'P3'), 2) as integer)
                                - coalesce(res.escalations, 0)) as varchar) as priority,
        e.item_cycle,
        coalesce(o.opened_cycle, {{ pay_cycle() }}) as opened_cycle,
        {{ days_between('e.item_cycle', pay_cycle()) }} as age_days,
        case when e.auto_cleared or res.closes_exception then 'resolved' else 'open' end as status,
        case when e.auto_cleared then 'auto_cleared'
             when res.timing_expired then 'timing_expired'
             else res.action end as resolution,
        case when e.auto_cleared then 'recon' else res.resolved_by end as resolved_by,
        case when e.auto_cleared then null else res.resolved_at end as resolved_at,
        case when e.auto_cleared and res.action = 'timing'
                 then 'timing: the item matched within the window of the timing decision'
             when e.auto_cleared then 'no longer an exception: the item settled or is no longer flagged'
             when res.timing_expired
                 then 'reopened: no match by ' || cast(res.timing_until as varchar)
                      || ' (timing decision: ' || res.reason || ')'
             else res.reason end as reason,
        case when res.action = 'timing' then res.timing_until end as timing_until,
        case when e.auto_cleared then null else res.adjustment_amount end as adjustment_amount,
        case when e.auto_cleared then null else res.adjustment_account end as adjustment_account,
        e.service,
        e.expected_value,
        e.reported_value
    from routed as e
    left join resolutions as res on res.exception_id = e.exception_id
    left join opened as o on o.exception_id = e.exception_id
    left join escalation_routes as esc
        on esc.assigned_team = coalesce(e.assigned_team, 'unassigned')
       and esc.escalations = least(coalesce(res.escalations, 0), 5)
    where e.route_rank = 1
),

-- the team's own SLA for the priority wins over the '*' default for that priority
sla_ranked as (
    select
        d.exception_id,
        s.sla_days,
        row_number() over (partition by d.exception_id
                           order by case when s.assigned_team = d.assigned_team then 0 else 1 end) as sla_rank
    from decided as d
    inner join sla as s
        on s.priority = d.priority
       and s.assigned_team in (d.assigned_team, '*')
),

final as (
    select
        d.*,
        b.aging_bucket,
        {{ add_days('d.opened_cycle', 's.sla_days') }} as sla_due,
        -- open past its due date, or resolved (this cycle) after it
        coalesce({{ pay_cycle() }} > {{ add_days('d.opened_cycle', 's.sla_days') }}, false) as sla_breached
    from decided as d
    left join aging_buckets as b
        on d.age_days >= b.min_age_days
       and (b.max_age_days is null or d.age_days < b.max_age_days)
    left join sla_ranked as s
        on s.exception_id = d.exception_id
       and s.sla_rank = 1
)

select * from final
