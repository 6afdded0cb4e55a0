{#- The disagreements between our own services at the end of the cycle being built
    (CONTRACT §6), one exception per (type, payment, participant service), shaped like
    int_cycle_exceptions' rows so they are routed, aged and resolved like the others:
      participant_missing       an expected participant has not reported report_within after
                                the entry's payment.sent (re-derived every cycle, so it clears
                                itself in the cycle its report lands);
      late_report               its first report came more than late_after after payment.sent;
      internal_amount_mismatch  its latest amount differs from the entry's;
      internal_status_mismatch  one says completed, the other failed or cancelled.
    A disagreement younger than late_after is in flight, not a break. Evidence: the service,
    the entry's value (expected_value) and the participant's (reported_value). An exception an
    operator closed in an earlier cycle is not raised again. -#}
with participants as (
    select * from {{ ref('int_processing_participants') }}
),

resolutions as (
    select * from {{ ref('int_operator_resolutions') }}
),

missing as (
    select
        'participant_missing' as exception_type,
        payment_id,
        service,
        cast(report_deadline as varchar) as expected_value,
        cast(null as varchar) as reported_value,
        cast(null as decimal(20,5)) as amount_difference,
        account_iban, entry_amount, currency, sent_cycle
    from participants
    where is_expected
      and first_reported_at is null
      and report_deadline < {{ cycle_end_utc() }}
),

late as (
    select
        'late_report' as exception_type,
        payment_id,
        service,
        cast(late_after as varchar) as expected_value,
        cast(first_reported_at as varchar) as reported_value,
        cast(null as decimal(20,5)) as amount_difference,
        account_iban, entry_amount, currency, sent_cycle
    from participants
    where first_reported_at > late_after
),

amounts as (
    select
        'internal_amount_mismatch' as exception_type,
        payment_id,
        service,
        cast(entry_amount as varchar) as expected_value,
        cast(latest_amount as varchar) as reported_value,
        cast(latest_amount - entry_amount as decimal(20,5)) as amount_difference,
        account_iban, entry_amount, currency, sent_cycle
    from participants
    where amount_disagrees
      and {{ plus_minutes('amount_disagrees_since', 'late_after_minutes') }} <= {{ cycle_end_utc() }}
),

statuses as (
    select
        'internal_status_mismatch' as exception_type,
        payment_id,
        service,
        entry_status as expected_value,
        latest_status as reported_value,
        cast(null as decimal(20,5)) as amount_difference,
        account_iban, entry_amount, currency, sent_cycle
    from participants
    where status_disagrees
      and {{ plus_minutes('status_disagrees_since', 'late_after_minutes') }} <= {{ cycle_end_utc() }}
),

breaks as (
    select * from missing
    union all
    select * from late
    union all
    select * from amounts
    union all
    select * from statuses
),

identified as (
    select
        {{ id_of('ex', ['exception_type', 'payment_id', 'service']) }} as exception_id,
        b.*
    from breaks as b
),

final as (
    select
        i.exception_id,
        i.exception_type,
        i.payment_id,
        cast(null as varchar) as bank_line_id,
        i.account_iban,
        i.entry_amount as amount,
        i.amount_difference,
        i.currency,
        i.sent_cycle as item_cycle,
        i.service,
        i.expected_value,
        i.reported_value
    from identified as i
    where i.exception_id not in (
        select r.exception_id from resolutions as r
        where r.closes_exception and r.effective_cycle < {{ pay_cycle() }}
    )
)

select * from final
