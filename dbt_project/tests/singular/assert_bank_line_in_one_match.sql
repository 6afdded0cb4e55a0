{#- No bank line is linked beyond its cardinality: across all cycles up to this one, a bank
    line belongs to exactly one match (a batch line to one match with N payments). -#}
select bank_line_id, count(distinct match_id) as matches
from {{ ref('fct_reconciliation_links') }}
where pay_cycle <= {{ pay_cycle() }}
group by bank_line_id
having count(distinct match_id) > 1
