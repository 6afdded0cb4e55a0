{{ config(materialized='incremental', incremental_strategy='append', on_schema_change='append_new_columns',
          pre_hook="{{ delete_cycle_slice() }}") }}
{#- One row per payment per pay cycle in which it was open or settled. A payment linked this
    cycle takes the worst status of its links; one still open is unmatched (in flight) within
    the settlement window and missing_in_bank after it. A resolved exception shows as resolved.
    internal_status is our own services' agreement (CONTRACT §6): break while one of the
    processing's internal exceptions is open, awaiting_reports while a participant has not yet
    reported or a disagreement is still in flight, consistent otherwise; not_tracked without
    internal consistency configured or when no other service takes part. -#}
with payments as (
    select * from {{ ref('int_payments_as_of_cycle') }}
),

links as (
    select * from {{ ref('int_links_current') }}
),

worst_link as (
    {{ worst_link_per('payment_id') }}
),

open_unlinked as (
    select payment_id, age_days
    from {{ ref('int_open_payments') }}
    where payment_id not in (select payment_id from links)
),

statuses as (
    select payment_id, link_status as recon_status, exception_type, match_id, rule_id
    from worst_link
    where severity_rank = 1
    union all
    select
        payment_id,
        case when {{ past_settlement_window('age_days') }} then 'exception' else 'unmatched' end,
        case when {{ past_settlement_window('age_days') }} then 'missing_in_bank' end,
        cast(null as varchar),
        cast(null as varchar)
    from open_unlinked
),

resolved as (
    select distinct payment_id, exception_type
    from {{ ref('fct_exceptions') }}
    where pay_cycle = {{ pay_cycle() }} and status = 'resolved' and resolution <> 'auto_cleared'
),

internal_breaks as (
    select distinct payment_id
    from {{ ref('fct_exceptions') }}
    where pay_cycle = {{ pay_cycle() }} and status = 'open'
      and exception_type in {{ internal_exception_types() }}
),

internal_waits as (
    select
        payment_id,
        max(case when (is_expected and first_reported_at is null) or disagreement_in_flight
                 then 1 else 0 end) as awaiting
    from {{ ref('int_processing_participants') }}
    group by payment_id
),

final as (
    select
        p.payment_id,
        p.account_iban,
        {{ pay_cycle() }} as pay_cycle,
        p.payment_status,
        case when r.payment_id is not null then 'resolved' else s.recon_status end as recon_status,
        s.exception_type,
        p.amount,
        p.currency,
        p.direction,
        p.end_to_end_id,
        p.batch_id,
        p.counterparty_name,
        p.sent_cycle,
        {{ days_between('p.sent_cycle', pay_cycle()) }} as age_days,
        s.match_id,
        s.rule_id,
        case when b.payment_id is not null then 'break'
             when w.payment_id is null then 'not_tracked'
             when w.awaiting = 1 then 'awaiting_reports'
             else 'consistent' end as internal_status
    from statuses as s
    inner join payments as p on p.payment_id = s.payment_id
    left join resolved as r on r.payment_id = s.payment_id and r.exception_type = s.exception_type
    left join internal_breaks as b on b.payment_id = s.payment_id
    left join internal_waits as w on w.payment_id = s.payment_id
)

select * from final
