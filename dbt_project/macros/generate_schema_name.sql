{#- Use the configured schema name as-is (staging, intermediate, marts, config) so the
    contract's `marts.fct_*` names hold on every target, instead of dbt's `<target>_<schema>`. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}{{ target.schema }}{%- else -%}{{ custom_schema_name | trim }}{%- endif -%}
{%- endmacro %}
