{{ config(materialized='incremental', incremental_strategy='append', pre_hook="{{ delete_cycle_slice() }}") }}
{#- One row per bank line per pay cycle in which it was open or settled, with the file it came
    from. Unlinked lines are unmatched within the settlement window and missing_in_books after
    it, unless flagged as a duplicate booking or ambiguous. -#}
with lines as (
    select * from {{ ref('stg_bank_lines') }}
),

links as (
    select * from {{ ref('int_links_current') }}
),

worst_link as (
    {{ worst_link_per('bank_line_id') }}
),

flags as (
    select * from {{ ref('int_unlinked_flags') }}
),

open_unlinked as (
    select bank_line_id, age_days
    from {{ ref('int_open_bank_lines') }}
    where bank_line_id not in (select bank_line_id from links)
),

statuses as (
    select bank_line_id, link_status as recon_status, exception_type, match_id, rule_id
    from worst_link
    where severity_rank = 1
    union all
    select
        o.bank_line_id,
        case when f.exception_type is not null or {{ past_settlement_window('o.age_days') }}
             then 'exception' else 'unmatched' end,
        coalesce(f.exception_type,
                 case when {{ past_settlement_window('o.age_days') }} then 'missing_in_books' end),
        cast(null as varchar),
        cast(null as varchar)
    from open_unlinked as o
    left join flags as f on f.bank_line_id = o.bank_line_id
),

resolved as (
    select distinct bank_line_id, exception_type
    from {{ ref('fct_exceptions') }}
    where pay_cycle = {{ pay_cycle() }} and status = 'resolved' and resolution <> 'auto_cleared'
),

final as (
    select
        l.bank_line_id,
        l.bank_reference,
        l.account_iban,
        l.booking_date,
        l.value_date,
        l.amount,
        l.currency,
        l.end_to_end_id,
        l.return_reason,
        l.source_file,
        l.source_sha256,
        l.position as source_position,
        {{ pay_cycle() }} as pay_cycle,
        case when r.bank_line_id is not null then 'resolved' else s.recon_status end as recon_status,
        s.exception_type,
        l.counterparty_name,
        l.remittance_info,
        l.batch_id,
        {{ days_between('l.booking_date', pay_cycle()) }} as age_days,
        s.match_id,
        s.rule_id
    from statuses as s
    inner join lines as l on l.bank_line_id = s.bank_line_id
    left join resolved as r on r.bank_line_id = s.bank_line_id and r.exception_type = s.exception_type
)

select * from final
