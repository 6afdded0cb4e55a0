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

breaks as (
    {{ internal_break('participant_missing',
                      expected_value='report_deadline', reported_value='null', amount_difference='null',
                      condition='is_expected and first_reported_at is null and report_deadline < ' ~ cycle_end_utc()) }}
    union all
    {{ internal_break('late_report',
                      expected_value='late_after', reported_value='first_reported_at', amount_difference='null',
                      condition='first_reported_at > late_after') }}
    union all
    {{ internal_break('internal_amount_mismatch',
                      expected_value='entry_amount', reported_value='latest_amount',
                      amount_difference='latest_amount - entry_amount',
                      condition='amount_disagrees and '
                                ~ plus_minutes('amount_disagrees_since', 'late_after_minutes')
                                ~ ' <= ' ~ cycle_end_utc()) }}
    union all
    {{ internal_break('internal_status_mismatch',
                      expected_value='entry_status', reported_value='latest_status', amount_difference='null',
                      condition='status_disagrees and '
                                ~ plus_minutes('status_disagrees_since', 'late_after_minutes')
                                ~ ' <= ' ~ cycle_end_utc()) }}
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
