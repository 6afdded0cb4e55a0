{#- A payment is settled by one match (1:1, batch, split); only a return adds a second one. -#}
select payment_id, count(distinct match_id) as settling_matches
from {{ ref('fct_reconciliation_links') }}
where pay_cycle <= {{ pay_cycle() }}
  and match_kind <> 'return'
group by payment_id
having count(distinct match_id) > 1
