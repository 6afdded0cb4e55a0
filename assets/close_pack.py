"""The per-cycle close pack asset: the Excel workbook finance signs, plus headline numbers
as materialization metadata so the Dagster UI shows each cycle's match rate and exposure."""

import datetime as dt

from dagster import AssetExecutionContext, AssetKey, MaterializeResult, MetadataValue, asset

from recon_pipeline.dagster_instance import CYCLES_POOL
from recon_pipeline.partitions import ONE_CYCLE_PER_RUN
from recon_pipeline.reports.close_pack import write_close_pack
from recon_pipeline.settings import load_settings
from recon_pipeline.warehouse.connection import open_warehouse

MART_KEYS = [AssetKey(["marts", name]) for name in (
    "rpt_close_summary", "rpt_bank_to_books", "rpt_exceptions", "fct_exceptions", "fct_reconciliation_links",
    "fct_payment_reconciliation", "fct_bank_line_reconciliation")]


def build_close_pack_asset(partitions_def):
    @asset(name="close_pack", group_name="reports", partitions_def=partitions_def, deps=MART_KEYS,
           backfill_policy=ONE_CYCLE_PER_RUN,
           pool=CYCLES_POOL, kinds={"excel"},
           description="reports/<cycle>/close_pack_<cycle>.xlsx: summary, balance proof, exceptions, "
                       "matches, open items, data quality and sign-off.")
    def close_pack(context: AssetExecutionContext) -> MaterializeResult:
        settings = load_settings()
        cycle = context.partition_key
        path = settings.close_pack_path(cycle)
        with open_warehouse(settings) as wh:
            pack = write_close_pack(wh, cycle, path)
            totals = wh.fetch_dicts(
                "select coalesce(sum(payments_count + bank_lines_count), 0) as items, "
                "coalesce(sum(open_exception_count), 0) as exceptions, "
                "coalesce(sum(open_exception_amount), 0) as at_stake, "
                "coalesce(sum(exposure_amount), 0) as exposure, min(payment_match_rate) as worst_match_rate, "
                "min(bank_line_match_rate) as worst_bank_line_match_rate, "
                "sum(case when statement_status = 'no statement' then 1 else 0 end) as without_statement, "
                "sum(case when unexplained_difference <> 0 then 1 else 0 end) as unexplained_accounts "
                "from marts.rpt_close_summary where pay_cycle = ?", (dt.date.fromisoformat(cycle),))[0]
            per_rule = wh.fetch_dicts(
                "select rule_id, count(distinct match_id) as matches, count(*) as links, "
                "count(distinct bank_line_id) as bank_lines "
                "from marts.fct_reconciliation_links where pay_cycle = ? group by rule_id order by rule_id",
                (dt.date.fromisoformat(cycle),))
            lines_in_cycle = wh.fetchone(
                "select count(*) from marts.fct_bank_line_reconciliation where pay_cycle = ?",
                (dt.date.fromisoformat(cycle),))[0] or 0
        return MaterializeResult(metadata={
            "path": MetadataValue.path(str(path)),
            "version": pack.version,
            "data_sha256": pack.sha256,
            "row_counts": MetadataValue.json({sheet: {k: v for k, v in counts.items() if isinstance(v, int)}
                                              for sheet, counts in pack.row_counts.items()}),
            **({"parquet_files": MetadataValue.json(pack.parquet_files)} if pack.parquet_files else {}),
            **({"changes": MetadataValue.md("\n".join(f"- {c}" for c in pack.changes))} if pack.changes else {}),
            "items": int(totals["items"]),
            "exceptions": int(totals["exceptions"]),
            # display only (floats); the pack holds exact Decimals
            "open_exceptions_at_stake": float(totals["at_stake"]),
            "exposure": float(totals["exposure"]),
            "worst_match_rate": float(totals["worst_match_rate"] or 0),
            "worst_bank_line_match_rate": float(totals["worst_bank_line_match_rate"] or 0),
            "accounts_without_statement": int(totals["without_statement"] or 0),
            "accounts_with_unexplained_difference": int(totals["unexplained_accounts"] or 0),
            # Match rate per rule: the share of the cycle's bank lines each rule settled.
            "match_rate_per_rule": MetadataValue.md(
                "| rule | matches | links | bank lines | match rate |\n|---|---|---|---|---|\n" +
                "\n".join(f"| {r['rule_id']} | {r['matches']} | {r['links']} | {r['bank_lines']} | "
                          f"{(r['bank_lines'] / lines_in_cycle if lines_in_cycle else 0):.1%} |" for r in per_rule)),
            **{f"match_rate/{r['rule_id']}": round(r["bank_lines"] / lines_in_cycle, 4) if lines_in_cycle else 0.0
               for r in per_rule},
        })

    return close_pack
