"""The long lists of the pack: Matches (every link with rule and confidence) and Open items
(in flight). Both stream from the warehouse in batches. Past ``max_rows`` a list no longer
fits a sheet a person can use: the full list goes to a Parquet file beside the pack, named on
the sheet, and the sheet keeps the first ``max_rows`` rows."""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from recon_pipeline.reports.xlsx import Column, SheetPlan, column_widths_sql

MAX_SHEET_ROWS = 100_000
PARQUET_BATCH = 5_000

MATCH_COLUMNS = [
    Column("Match id"), Column("Rule"), Column("Kind"), Column("Status"), Column("Exception type"),
    Column("Confidence", "number"), Column("Account"), Column("Currency"), Column("Payment id"),
    Column("End-to-end id"), Column("Our amount", "money", currency_from=7), Column("Bank line id"),
    Column("Bank reference"), Column("Bank amount", "money", currency_from=7), Column("Booking date", "date"),
    Column("Amount difference", "money", currency_from=7), Column("Date difference (days)", "count"),
    Column("Counterparty"), Column("Remittance info"),
]
MATCH_SQL = """
    select k.match_id, k.rule_id, k.match_kind, k.recon_status, k.exception_type, k.confidence,
           coalesce(b.account_iban, p.account_iban) as account_iban, coalesce(b.currency, p.currency) as currency,
           k.payment_id, p.end_to_end_id,
           case when p.direction = 'outgoing' then -p.amount else p.amount end as payment_amount,
           k.bank_line_id, b.bank_reference, b.amount as bank_amount, b.booking_date, k.amount_difference,
           k.date_difference_days, coalesce(b.counterparty_name, p.counterparty_name) as counterparty_name,
           b.remittance_info
    from marts.fct_reconciliation_links as k
    left join marts.fct_payment_reconciliation as p on p.payment_id = k.payment_id and p.pay_cycle = k.pay_cycle
    left join marts.fct_bank_line_reconciliation as b on b.bank_line_id = k.bank_line_id and b.pay_cycle = k.pay_cycle
    where k.pay_cycle = ?
    order by k.match_id, k.payment_id, k.bank_line_id"""

OPEN_COLUMNS = [Column("Side"), Column("Item id"), Column("Account"), Column("Currency"),
                Column("Amount", "money", currency_from=3), Column("Reference"), Column("Counterparty"),
                Column("Item cycle", "date"), Column("Age (days)", "count"), Column("Status / source file")]
OPEN_SQL = """
    select 'payment' as side, payment_id as item_id, account_iban, currency,
           case when direction = 'outgoing' then -amount else amount end as amount,
           end_to_end_id as reference, counterparty_name, sent_cycle as item_cycle, age_days,
           payment_status as detail
    from marts.fct_payment_reconciliation where pay_cycle = ? and recon_status = 'unmatched'
    union all
    select 'bank line', bank_line_id, account_iban, currency, amount,
           coalesce(end_to_end_id, bank_reference), counterparty_name, booking_date, age_days, source_file
    from marts.fct_bank_line_reconciliation where pay_cycle = ? and recon_status = 'unmatched'
    order by 1 desc, 9 desc, 2"""

_ARROW = {"text": pa.string(), "money": pa.decimal128(38, 5), "number": pa.decimal128(9, 4),
          "count": pa.int64(), "date": pa.date32(), "datetime": pa.timestamp("us"), "rate": pa.decimal128(9, 4)}


def _schema(columns: Sequence[Column]) -> pa.Schema:
    return pa.schema([(c.header, _ARROW[c.kind]) for c in columns])


def write_listing(plan: SheetPlan, wh, *, sheet: str, title: str, subtitle: str, columns: list[Column],
                  sql: str, params: Sequence[Any], parquet_path: Path, max_rows: int = MAX_SHEET_ROWS) -> dict[str, Any]:
    """Stream a list to the sheet; past ``max_rows`` rows, the full list to ``parquet_path`` too."""
    plan.digest.sheet(sheet)
    total = int(wh.fetchone(f"select count(*) from ({sql}) as counted", params)[0])
    column_widths_sql(wh, sql, params, columns)
    plan.size([columns])
    plan.freeze("B5")
    overflow = total > max_rows
    plan.title(title, subtitle if not overflow else
               f"{subtitle} {total:,} rows: the first {max_rows:,} are on this sheet, the full list is in "
               f"{parquet_path.name} beside this workbook.")
    writer = pq.ParquetWriter(str(parquet_path) + ".part", _schema(columns)) if overflow else None
    written = 0

    def rows() -> Iterator[list[Any]]:
        nonlocal written
        batch: list[list[Any]] = []
        for row in wh.iter_rows(sql, params):
            row = list(row)
            if writer is not None:
                batch.append(row)
                if len(batch) >= PARQUET_BATCH:
                    _flush(writer, columns, batch)
                    batch = []
            if written < max_rows:
                written += 1
                yield row
            elif writer is None:
                break
            else:
                plan.digest.row(row)       # not on the sheet, but the pack was built from it
        if writer is not None and batch:
            _flush(writer, columns, batch)

    try:
        plan.table(columns, rows(), filter_=True, repeat_header=True)
    finally:
        if writer is not None:
            writer.close()
    if overflow:
        Path(str(parquet_path) + ".part").replace(parquet_path)
        plan.blank()      # the note is not a row of the list
        plan.note(f"Full list ({total:,} rows): {parquet_path.name}")
    elif total == 0:
        plan.blank()
        plan.note("Nothing in this pay cycle.")
    plan.finish()
    return {"rows": total, "rows_on_sheet": written, "parquet": str(parquet_path) if overflow else None}


def _flush(writer: pq.ParquetWriter, columns: Sequence[Column], batch: list[list[Any]]) -> None:
    arrays = [pa.array([r[i] for r in batch], type=_ARROW[c.kind]) for i, c in enumerate(columns)]
    writer.write_table(pa.Table.from_arrays(arrays, schema=writer.schema))
