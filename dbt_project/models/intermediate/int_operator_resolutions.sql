{#- Operator resolutions in force for this cycle (recorded with an effective cycle up to it).
    The latest resolution of an exception wins; earlier ones stay in ops.* as history, and
    every escalation counts (each one moves the exception one step up the escalation path).
    A timing decision waits for the item to match for one settlement window, counted from
    the cycle it took effect; from then on it has expired and the exception is open again. -#}
with log as (
    select * from {{ source('ops', 'exception_resolutions') }}
    where effective_cycle <= {{ pay_cycle() }}
),

ranked as (
    select
        *,
        row_number() over (partition by exception_id order by resolved_at desc, resolution_id desc) as recency,
        sum(case when action = 'escalate' then 1 else 0 end) over (partition by exception_id) as escalations
    from log
),

latest as (
    select
        *,
        case when action = 'timing'
             then {{ add_days('effective_cycle', settlement_window_days()) }} end as timing_until
    from ranked
    where recency = 1
),

final as (
    select
        resolution_id,
        exception_id,
        action,
        reason,
        resolved_by,
        resolved_at,
        effective_cycle,
        adjustment_amount,
        adjustment_account,
        cast(escalations as integer) as escalations,
        timing_until,
        coalesce({{ pay_cycle() }} >= timing_until, false) as timing_expired,
        -- accept/adjust close the exception; timing closes it while it waits for the match;
        -- escalate keeps it open with the next team at a higher priority.
        action in ('accept', 'adjust')
            or (action = 'timing' and not coalesce({{ pay_cycle() }} >= timing_until, false)) as closes_exception,
        -- accept/adjust also take the items out of matching; timing leaves them to match later.
        action in ('accept', 'adjust') as closes_items
    from latest
)

select * from final
