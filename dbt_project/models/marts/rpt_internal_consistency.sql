{{ config(materialized='incremental', incremental_strategy='append', pre_hook="{{ delete_cycle_slice() }}") }}
{#- Per pay cycle and participant service: how our own services kept up (CONTRACT §6), the
    figures of the close pack's "Internal consistency" sheet and of the Dagster asset check.
    processings/reported count the processings the entry sent in this cycle that the service
    takes part in and how many it has reported by the cycle's end; late/missing/disagreeing
    count its internal exceptions open in this cycle (any sent cycle), so they tie with
    fct_exceptions. Empty without internal consistency configured. -#}
with participants as (
    select * from {{ ref('int_processing_participants') }}
),

exceptions as (
    select * from {{ ref('fct_exceptions') }}
    where pay_cycle = {{ pay_cycle() }} and status = 'open' and service is not null
      and exception_type in {{ internal_exception_types() }}
),

sent_this_cycle as (
    select
        service,
        count(*) as processings,
        sum(case when first_reported_at is not null then 1 else 0 end) as reported
    from participants
    where sent_cycle = {{ pay_cycle() }}
    group by service
),

breaks as (
    select
        service,
        sum(case when exception_type = 'late_report' then 1 else 0 end) as late,
        sum(case when exception_type = 'participant_missing' then 1 else 0 end) as missing,
        sum(case when exception_type in ('internal_amount_mismatch', 'internal_status_mismatch')
                 then 1 else 0 end) as disagreeing
    from exceptions
    group by service
),

services as (
    select service from sent_this_cycle
    union
    select service from breaks
),

final as (
    select
        {{ pay_cycle() }} as pay_cycle,
        s.service,
        cast(coalesce(c.processings, 0) as integer) as processings,
        cast(coalesce(c.reported, 0) as integer) as reported,
        cast(coalesce(b.late, 0) as integer) as late,
        cast(coalesce(b.missing, 0) as integer) as missing,
        cast(coalesce(b.disagreeing, 0) as integer) as disagreeing
    from services as s
    left join sent_this_cycle as c on c.service = s.service
    left join breaks as b on b.service = s.service
)

select * from final
