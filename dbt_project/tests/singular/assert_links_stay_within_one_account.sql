{{ config(meta={'dagster': {'ref': {'name': 'fct_reconciliation_links'}}}) }}
{#- A link never crosses accounts or currencies: our payment and the bank line agree on both. -#}
select k.match_id, k.payment_id, k.bank_line_id
from {{ ref('fct_reconciliation_links') }} as k
join {{ ref('fct_payment_reconciliation') }} as p on p.payment_id = k.payment_id and p.pay_cycle = k.pay_cycle
join {{ ref('fct_bank_line_reconciliation') }} as b on b.bank_line_id = k.bank_line_id and b.pay_cycle = k.pay_cycle
where k.pay_cycle = {{ pay_cycle() }}
  and (p.account_iban <> b.account_iban or p.currency <> b.currency)
