"""The per-cycle close pack asset: the Excel workbook finance signs, plus headline numbers
as materialization metadata so the Dagster UI shows each cycle's match rate and exposure.
The workbook and the numbers come from the domain (recon_pipeline/reports); this is wiring."""

from dagster import AssetExecutionContext, AssetKey, MaterializeResult, MetadataValue, ResourceParam, asset

from orchestration.instance import CYCLES_POOL
from orchestration.partitions import ONE_CYCLE_PER_RUN
from orchestration.resources import Recon
from recon_pipeline.reports.close_pack import write_close_pack
from recon_pipeline.reports.headlines import cycle_headlines

MART_KEYS = [AssetKey(["marts", name]) for name in (
    "rpt_close_summary", "rpt_bank_to_books", "rpt_exceptions", "fct_exceptions", "fct_reconciliation_links",
    "fct_payment_reconciliation", "fct_bank_line_reconciliation")]


def build_close_pack_asset(partitions_def):
    @asset(name="close_pack", group_name="reports", partitions_def=partitions_def, deps=MART_KEYS,
           backfill_policy=ONE_CYCLE_PER_RUN,
           pool=CYCLES_POOL, kinds={"excel"},
           description="reports/<cycle>/close_pack_<cycle>.xlsx: summary, balance proof, exceptions, "
                       "matches, open items, data quality and sign-off.")
    def close_pack(context: AssetExecutionContext, recon: ResourceParam[Recon]) -> MaterializeResult:
        cycle = context.partition_key
        path = recon.settings.close_pack_path(cycle)
        with recon.warehouse() as wh:
            pack = write_close_pack(wh, cycle, path)
            head = cycle_headlines(wh, cycle)
        return MaterializeResult(metadata={
            "path": MetadataValue.path(str(path)),
            "version": pack.version,
            "data_sha256": pack.sha256,
            "row_counts": MetadataValue.json({sheet: {k: v for k, v in counts.items() if isinstance(v, int)}
                                              for sheet, counts in pack.row_counts.items()}),
            **({"parquet_files": MetadataValue.json(pack.parquet_files)} if pack.parquet_files else {}),
            **({"changes": MetadataValue.md("\n".join(f"- {c}" for c in pack.changes))} if pack.changes else {}),
            "items": head.items,
            "exceptions": head.open_exceptions,
            # display only (floats); the pack holds exact Decimals
            "open_exceptions_at_stake": float(head.open_exceptions_at_stake),
            "exposure": float(head.exposure),
            "worst_match_rate": float(head.worst_match_rate),
            "worst_bank_line_match_rate": float(head.worst_bank_line_match_rate),
            "accounts_without_statement": head.accounts_without_statement,
            "accounts_with_unexplained_difference": head.accounts_with_unexplained_difference,
            # Match rate per rule: the share of the cycle's bank lines each rule settled.
            "match_rate_per_rule": MetadataValue.md(
                "| rule | matches | links | bank lines | match rate |\n|---|---|---|---|---|\n" +
                "\n".join(f"| {r.rule_id} | {r.matches} | {r.links} | {r.bank_lines} | "
                          f"{head.rule_match_rate(r):.1%} |" for r in head.per_rule)),
            **{f"match_rate/{r.rule_id}": round(head.rule_match_rate(r), 4) for r in head.per_rule},
        })

    return close_pack
