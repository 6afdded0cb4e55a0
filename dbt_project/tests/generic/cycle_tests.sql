{#- Generic tests scoped to the pay cycle being built: each run checks its own slice, so a
    test result belongs to one partition, like the data it checks. -#}

{% test unique_in_cycle(model, column_name) %}
    select {{ column_name }}, count(*) as occurrences
    from {{ model }}
    where pay_cycle = {{ pay_cycle() }}
    group by {{ column_name }}
    having count(*) > 1
{% endtest %}

{% test not_null_in_cycle(model, column_name) %}
    select * from {{ model }}
    where pay_cycle = {{ pay_cycle() }} and {{ column_name }} is null
{% endtest %}

{% test accepted_values_in_cycle(model, column_name, values) %}
    select {{ column_name }} as value, count(*) as occurrences
    from {{ model }}
    where pay_cycle = {{ pay_cycle() }}
      and {{ column_name }} is not null
      and {{ column_name }} not in ({% for v in values %}'{{ v }}'{% if not loop.last %}, {% endif %}{% endfor %})
    group by {{ column_name }}
{% endtest %}

{% test between_in_cycle(model, column_name, min_value, max_value) %}
    select * from {{ model }}
    where pay_cycle = {{ pay_cycle() }}
      and ({{ column_name }} < {{ min_value }} or {{ column_name }} > {{ max_value }})
{% endtest %}

{#- A figure that must be zero in the cycle being built (null is not judged). -#}
{% test zero_in_cycle(model, column_name) %}
    select * from {{ model }}
    where pay_cycle = {{ pay_cycle() }} and {{ column_name }} <> 0
{% endtest %}
