{#- Operator resolutions in force for this cycle (recorded with an effective cycle up to it).
    The latest resolution of an exception wins; earlier ones stay in ops.* as history. -#}
with resolutions as (
    select
        *,
        row_number() over (partition by exception_id order by resolved_at desc, resolution_id desc) as recency
    from {{ source('ops', 'exception_resolutions') }}
    where effective_cycle <= {{ pay_cycle() }}
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
        -- accept/adjust/timing close the exception; escalate keeps it open with a higher priority.
        action in ('accept', 'adjust', 'timing') as closes_exception,
        -- accept/adjust also take the items out of matching; timing leaves them to match later.
        action in ('accept', 'adjust') as closes_items
    from resolutions
    where recency = 1
)

select * from final
