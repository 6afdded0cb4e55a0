{#- Where an exception routed to a team ends up after n escalations (n = 0..5), walking
    seeds/escalation_path.csv one step per escalation. A team without a row stays put. -#}
with recursive path as (
    select * from {{ ref('escalation_path') }}
),

teams as (
    select assigned_team from path
    union
    select escalate_to_team from path
    union
    select assigned_team from {{ ref('exception_routing') }}
),

walk as (
    select assigned_team, 0 as escalations, assigned_team as escalated_team
    from teams
    union all
    select w.assigned_team, w.escalations + 1, coalesce(p.escalate_to_team, w.escalated_team)
    from walk as w
    left join path as p on p.assigned_team = w.escalated_team
    where w.escalations < 5
),

final as (
    select assigned_team, escalations, escalated_team from walk
)

select * from final
