{#-
  The intermediate models on DuckDB: one `create or replace table`, committed.

  Why not dbt-duckdb's own table materialization: it builds a temporary relation, renames the
  existing table to a backup, renames the new one in, drops the backup, and checks foreign keys,
  indexes, grants and docs on the way — a dozen statements and macro calls per model, for the
  ~27 intermediate tables rebuilt in every pay cycle. At a small cycle that was most of dbt's
  time, not DuckDB's (py-spy, 2026-12-01; see bench/README.md). DuckDB replaces a table in
  one atomic statement; this project declares no foreign keys, indexes, grants or contracts on
  these models. Postgres keeps dbt's own materialization (no `create or replace table` there).
-#}
{% materialization table, adapter="duckdb", supported_languages=["sql"] %}
  {%- set target_relation = this.incorporate(type="table") -%}
  {%- set existing_relation = load_cached_relation(this) -%}

  {{ run_hooks(pre_hooks, inside_transaction=False) }}
  {{ run_hooks(pre_hooks, inside_transaction=True) }}

  {%- if existing_relation is not none and not existing_relation.is_table -%}
    {#- a model that was a view: DuckDB cannot replace a view with a table -#}
    {{ adapter.drop_relation(existing_relation) }}
  {%- endif %}

  {% call statement("main") -%}
    create or replace table {{ target_relation }} as (
      {{ compiled_code }}
    )
  {%- endcall %}

  {{ run_hooks(post_hooks, inside_transaction=True) }}
  {{ adapter.commit() }}
  {{ run_hooks(post_hooks, inside_transaction=False) }}

  {{ return({"relations": [target_relation]}) }}
{% endmaterialization %}
