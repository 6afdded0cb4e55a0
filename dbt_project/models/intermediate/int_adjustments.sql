{#- Books postings recorded with the `adjust` action (ops.exception_resolutions), for the
    bank-to-books proof. Each adjust record is one posting in our books, signed like a bank
    movement (a fee the bank charged is negative), on the exception's account. It belongs to
    the proof of its effective cycle, and only that one: rebuilding an earlier cycle never sees
    it, and a later cycle does not count it again. A correction is a further adjust record. -#}
with resolutions as (
    select * from {{ source('ops', 'exception_resolutions') }}
    where action = 'adjust'
      and adjustment_amount is not null
      and effective_cycle = {{ pay_cycle() }}
),

exceptions as (
    select exception_id, exception_type, account_iban, currency from {{ ref('int_cycle_exceptions') }}
    union
    select exception_id, exception_type, account_iban, currency from {{ ref('int_prior_exceptions') }}
),

final as (
    select
        r.resolution_id,
        r.exception_id,
        e.exception_type,
        e.account_iban,
        e.currency,
        r.effective_cycle,
        r.adjustment_amount,
        r.adjustment_account,
        r.resolved_by,
        r.resolved_at,
        r.reason
    from resolutions as r
    inner join exceptions as e on e.exception_id = r.exception_id
)

select * from final
