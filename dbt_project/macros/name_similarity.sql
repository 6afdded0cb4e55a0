{#- Counterparty-name similarity in [0, 1]: Jaro-Winkler (prefix scale 0.1, up to 4 letters,
    boosted only above 0.7) of the normalised names, the same numbers on both warehouses so
    both reconcile alike. DuckDB has it built in; Postgres gets the same algorithm as a
    PL/pgSQL function (pg_trgm or fuzzystrmatch may not be installed, and neither is
    Jaro-Winkler), created before every run by on-run-start. The two differ in the last bit of
    a double now and then (the order of floating-point operations), so the result is a
    decimal of 10 places on both. -#}
{% macro name_similarity(a, b) -%}{{ return(adapter.dispatch('name_similarity', 'recon')(a, b)) }}{%- endmacro %}
{% macro default__name_similarity(a, b) -%}
    cast(coalesce(jaro_winkler_similarity({{ normalise_text(a) }}, {{ normalise_text(b) }}), 0) as decimal(11, 10))
{%- endmacro %}
{% macro postgres__name_similarity(a, b) -%}
    cast(coalesce({{ target.schema }}.recon_jaro_winkler({{ normalise_text(a) }}, {{ normalise_text(b) }}), 0)
         as decimal(11, 10))
{%- endmacro %}

{% macro create_name_similarity_function() -%}{{ return(adapter.dispatch('create_name_similarity_function', 'recon')()) }}{%- endmacro %}
{% macro default__create_name_similarity_function() -%}select 1{%- endmacro %}
{% macro postgres__create_name_similarity_function() -%}
do $do$
begin
    -- one at a time: two runs replacing the same function at once fail in Postgres
    perform pg_advisory_xact_lock(hashtext('recon_jaro_winkler'));
    execute $ddl$
    create or replace function {{ target.schema }}.recon_jaro_winkler(a text, b text)
    returns double precision language plpgsql immutable parallel safe as $fn$
    declare
        la int := coalesce(length(a), 0);
        lb int := coalesce(length(b), 0);
        w int;
        m int := 0;
        t int := 0;
        k int := 1;
        p int := 0;
        fa boolean[];
        fb boolean[];
        s double precision;
    begin
        if la = 0 or lb = 0 then
            return 0;
        end if;
        w := greatest(greatest(la, lb) / 2 - 1, 0);
        fa := array_fill(false, array[la]);
        fb := array_fill(false, array[lb]);
        for i in 1..la loop
            for j in greatest(1, i - w)..least(lb, i + w) loop
                if not fb[j] and substr(a, i, 1) = substr(b, j, 1) then
                    fa[i] := true;
                    fb[j] := true;
                    m := m + 1;
                    exit;
                end if;
            end loop;
        end loop;
        if m = 0 then
            return 0;
        end if;
        for i in 1..la loop
            if fa[i] then
                while not fb[k] loop
                    k := k + 1;
                end loop;
                if substr(a, i, 1) <> substr(b, k, 1) then
                    t := t + 1;
                end if;
                k := k + 1;
            end if;
        end loop;
        t := t / 2;
        s := (m::float8 / la + m::float8 / lb + (m - t)::float8 / m) / 3.0::float8;
        if s > 0.7 then
            while p < least(4, la, lb) and substr(a, p + 1, 1) = substr(b, p + 1, 1) loop
                p := p + 1;
            end loop;
            s := s + (p * 0.1::float8) * (1 - s);
        end if;
        return s;
    end
    $fn$
    $ddl$;
end
$do$
{%- endmacro %}
