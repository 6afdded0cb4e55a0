{{ config(materialized='incremental', incremental_strategy='append', on_schema_change='append_new_columns',
          pre_hook="{{ delete_cycle_slice() }}") }}
{#- One row per exception per pay cycle while it is open, and once more in the cycle it is
    resolved. Link-level exceptions (fee, amount, status, return reason) carry forward until an
    operator resolves them; open-item exceptions are re-derived every cycle and clear
    themselves (resolution auto_cleared) when the item settles. Operators' resolutions come
    from the append-only ops.exception_resolutions log: a status, never an edit. -#}
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

carried as (
    select exception_id, exception_type, payment_id, bank_line_id, account_iban, amount,
           amount_difference, currency, item_cycle, service, expected_value, reported_value
    from prior
    where status = 'open'
      and exception_type in ('amount_mismatch', 'probable_fee', 'status_mismatch', 'unknown_return_reason')
      and exception_id not in (select exception_id from detected)
),

cleared as (
    select exception_id, exception_type, payment_id, bank_line_id, account_iban, amount,
           amount_difference, currency, item_cycle, service, expected_value, reported_value
    from prior
    where status = 'open'
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

final as (
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
        case when res.action = 'escalate' and not e.auto_cleared then 'escalations'
             else coalesce(e.assigned_team, 'unassigned') end as assigned_team,
        case when res.action = 'escalate' and not e.auto_cleared then 'P1'
             else coalesce(e.priority, 'P3') end as priority,
        e.item_cycle,
        coalesce(o.opened_cycle, {{ pay_cycle() }}) as opened_cycle,
        {{ days_between('e.item_cycle', pay_cycle()) }} as age_days,
        case when e.auto_cleared or res.closes_exception then 'resolved' else 'open' end as status,
        case when e.auto_cleared then 'auto_cleared' else res.action end as resolution,
        case when e.auto_cleared then 'recon' else res.resolved_by end as resolved_by,
        case when e.auto_cleared then null else res.resolved_at end as resolved_at,
        case when e.auto_cleared then 'no longer an exception: the item settled or is no longer flagged'
             else res.reason end as reason,
        e.service,
        e.expected_value,
        e.reported_value
    from routed as e
    left join resolutions as res on res.exception_id = e.exception_id
    left join opened as o on o.exception_id = e.exception_id
    where e.route_rank = 1
)

select * from final
