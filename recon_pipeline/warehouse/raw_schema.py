"""DDL of the raw tables that the loaders write and dbt reads (the ``ops`` tables: ops_schema.py).

``raw.*`` holds what arrived, exactly as parsed and linked to the file or offset it came from;
``raw.quarantine_*`` holds what could not be used, with its raw bytes and a one-line reason.
Nothing downstream edits these tables: the dbt marts are rebuilt from them.

Types are the portable subset of DuckDB and Postgres; money is DECIMAL(20,5), which holds
the five-decimal amounts some banks send without rounding.
"""
from __future__ import annotations

from recon_pipeline.warehouse.connection import Warehouse

MONEY = "decimal(20,5)"

RAW_TABLES = {
    "raw.statement_files": """
        source_sha256 varchar primary key,
        original_name varchar not null,
        source varchar not null,
        landed_at varchar,
        format varchar not null,
        statement_count integer not null,
        line_count integer not null,
        warnings varchar
    """,
    "raw.statements": f"""
        statement_key varchar primary key,
        source_sha256 varchar not null,
        statement_index integer not null,
        format varchar not null,
        account_iban varchar not null,
        currency varchar,
        statement_id varchar,
        opening_balance {MONEY},
        closing_balance {MONEY},
        opening_date date,
        closing_date date,
        entry_count integer not null,
        movements {MONEY} not null,
        balanced boolean,
        control_entry_count integer,
        control_sum {MONEY},
        page_number integer
    """,
    "raw.statement_findings": """
        source_sha256 varchar not null,
        statement_index integer not null,
        account_iban varchar,
        code varchar not null,
        severity varchar not null,
        message varchar not null
    """,
    "raw.statement_lines": f"""
        bank_line_id varchar not null,
        source_sha256 varchar not null,
        source_file varchar not null,
        position integer not null,
        statement_index integer not null,
        statement_key varchar not null,
        account_iban varchar not null,
        currency varchar not null,
        booking_date date,
        value_date date,
        amount {MONEY} not null,
        bank_reference varchar,
        customer_reference varchar,
        end_to_end_id varchar,
        batch_id varchar,
        batch_count integer,
        return_reason varchar,
        counterparty_name varchar,
        counterparty_iban varchar,
        remittance_info varchar,
        transaction_code varchar,
        is_reversal boolean not null,
        entry_status varchar not null,
        detail_count integer not null,
        primary key (source_sha256, position)
    """,
    "raw.statement_line_details": f"""
        bank_line_id varchar not null,
        source_sha256 varchar not null,
        position integer not null,
        detail_index integer not null,
        end_to_end_id varchar,
        amount {MONEY},
        currency varchar,
        instruction_id varchar,
        payment_info_id varchar,
        counterparty_name varchar,
        counterparty_iban varchar,
        remittance_info varchar,
        return_reason varchar,
        primary key (source_sha256, position, detail_index)
    """,
    "raw.payment_events": f"""
        message_key varchar primary key,
        event_id varchar not null,
        event_type varchar not null,
        occurred_at timestamp not null,
        payment_id varchar not null,
        end_to_end_id varchar,
        batch_id varchar,
        amount {MONEY} not null,
        currency varchar not null,
        direction varchar not null,
        account_iban varchar not null,
        counterparty_name varchar,
        counterparty_iban varchar,
        return_reason varchar,
        service varchar,
        extra_json varchar,
        origin varchar not null,
        source varchar not null,
        topic varchar,
        kafka_partition integer,
        message_offset bigint
    """,
    "raw.event_files": """
        source_sha256 varchar primary key,
        original_name varchar not null,
        source varchar not null,
        landed_at varchar,
        messages integer not null,
        loaded integer not null,
        quarantined integer not null
    """,
    "raw.quarantine_statement_files": """
        source_sha256 varchar primary key,
        original_name varchar not null,
        source varchar not null,
        landed_at varchar,
        reason varchar not null,
        size_bytes bigint not null,
        raw_bytes blob
    """,
    "raw.quarantine_statement_lines": """
        source_sha256 varchar not null,
        original_name varchar not null,
        statement_index integer not null,
        position integer not null,
        account_iban varchar,
        reason varchar not null,
        raw_value blob,
        primary key (source_sha256, position)
    """,
    "raw.quarantine_events": """
        message_key varchar primary key,
        origin varchar not null,
        source varchar not null,
        topic varchar,
        kafka_partition integer,
        message_offset bigint,
        reason varchar not null,
        raw_value blob
    """,
}


def create_tables(wh: Warehouse, schema: str, tables: dict[str, str]) -> None:
    """Create the schema and the tables that are missing (idempotent, serialised on Postgres)."""
    if all(wh.table_exists(*name.split(".")) for name in tables):
        return
    with wh.catalogue_change():
        wh.execute(f"create schema if not exists {schema}")
        for name, columns in tables.items():
            ddl = columns
            if wh.kind == "postgres":
                ddl = ddl.replace(" blob", " bytea")
            wh.execute(f"create table if not exists {name} ({ddl})")


# Columns added after a table's first release: a warehouse created before gets them on open.
ADDED_COLUMNS = [
    ("raw.statements", "page_number", "integer"),  # a paginated statement's page (camt PgNb, MT940 :28C:)
]


def ensure_raw_schema(wh: Warehouse) -> None:
    """Create the raw and quarantine tables if they are missing, and add the columns added
    since (idempotent)."""
    create_tables(wh, "raw", RAW_TABLES)
    for table, column, kind in ADDED_COLUMNS:
        schema, name = table.split(".")
        if not wh.fetchone("select count(*) from information_schema.columns where table_schema = ? "
                           "and table_name = ? and column_name = ?", (schema, name, column))[0]:
            with wh.catalogue_change():
                wh.execute(f"alter table {table} add column if not exists {column} {kind}")

