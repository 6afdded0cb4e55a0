{{ config(materialized='incremental', incremental_strategy='append', pre_hook="{{ delete_cycle_slice() }}") }}
{#- One row per (payment, bank line) link decided in a pay cycle, with the rule, confidence
    and evidence (which keys agreed, amount and date differences). A batch booking gives N
    rows with one match_id; a split gives 2+ rows; a return adds a link to the same payment. -#}
with links as (
    select * from {{ ref('int_links_current') }}
),

final as (
    select
        match_id,
        payment_id,
        bank_line_id,
        rule_id,
        confidence,
        {{ pay_cycle() }} as pay_cycle,
        link_status as recon_status,
        exception_type,
        match_kind,
        reference_level,
        amount_difference,
        date_difference_days
    from links
)

select * from final
