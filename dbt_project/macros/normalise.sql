{#- Reference normalisation used by the matching rules: case, spaces and punctuation ignored. -#}
{% macro normalise_ref(col) -%}
    nullif(upper(regexp_replace(coalesce({{ col }}, ''), '[^A-Za-z0-9]', '', 'g')), '')
{%- endmacro %}

{% macro normalise_text(col) -%}
    upper(regexp_replace(coalesce({{ col }}, ''), '[^A-Za-z]', '', 'g'))
{%- endmacro %}

{#- How well a bank reference agrees with ours: 3 exact, 2 normalised, 1 the bank kept only
    our first 16 characters (MT940), 0 no agreement. Rules name the minimum level they accept. -#}
{% macro reference_level(bank_ref, our_ref) -%}
    case
        when {{ bank_ref }} is null or {{ our_ref }} is null then 0
        when {{ bank_ref }} = {{ our_ref }} then 3
        when {{ normalise_ref(bank_ref) }} = {{ normalise_ref(our_ref) }} then 2
        when length({{ bank_ref }}) = 16 and length({{ our_ref }}) > 16
             and upper({{ bank_ref }}) = upper(left({{ our_ref }}, 16)) then 1
        else 0
    end
{%- endmacro %}
