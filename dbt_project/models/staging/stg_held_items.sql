{#- Items kept out of matching in every cycle: held by a blocked cycle's gate (ops.held_items)
    unless an operator's latest release acknowledged them, or excluded by an operator. -#}
with holds as (
    select distinct item_kind, item_key from {{ source('ops', 'held_items') }}
),

releases as (
    select
        item_kind,
        item_key,
        action,
        row_number() over (partition by item_kind, item_key order by released_at desc, release_id desc) as latest
    from {{ source('ops', 'item_releases') }}
),

latest_release as (
    select item_kind, item_key, action from releases where latest = 1
),

final as (
    select h.item_kind, h.item_key
    from holds as h
    left join latest_release as r on r.item_kind = h.item_kind and r.item_key = h.item_key
    where r.action is null or r.action = 'exclude'
)

select * from final
