"""What each portal page shows, read from the portal's tables (``portal.*``, see ``snapshot``).

Plain SQL over the same tables on DuckDB and Postgres; every value stays as the warehouse
typed it (amounts are Decimals) and is formatted only by the templates.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any

from recon_pipeline.warehouse.connection import Warehouse

_SETTLED = ("matched", "partial_match", "resolved")


def _settled_sum(prefix: str) -> str:
    return " + ".join(f"sum({prefix}_{s}_count)" for s in _SETTLED)


def list_cycles(wh: Warehouse) -> list[dict[str, Any]]:
    """One row per pay cycle, newest first: volumes, match rate, open exceptions, exposure per
    currency, whether every account's balance proof holds."""
    cycles = wh.fetch_dicts(f"""
        select pay_cycle,
               count(*) as accounts,
               sum(payments_count) as payments,
               sum(bank_lines_count) as bank_lines,
               {_settled_sum('payments')} + {_settled_sum('bank_lines')} as settled_items,
               sum(exposure_count) as exposure_count,
               min(case when balance_proof_ok then 1 when balance_proof_ok is null then null else 0 end)
                   as balance_proof_ok
        from portal.cycles group by pay_cycle order by pay_cycle desc""")
    exposure = _per_cycle_currency(wh, "select pay_cycle, currency, sum(exposure_amount) as amount "
                                       "from portal.cycles group by pay_cycle, currency")
    exceptions = {r["pay_cycle"]: r for r in wh.fetch_dicts(
        "select pay_cycle, sum(case when status = 'open' then 1 else 0 end) as open_exceptions, "
        "sum(case when status = 'resolved' then 1 else 0 end) as resolved_exceptions "
        "from portal.exceptions group by pay_cycle")}
    for row in cycles:
        items = (row["payments"] or 0) + (row["bank_lines"] or 0)
        row["match_rate"] = (Decimal(row["settled_items"] or 0) / items) if items else None
        row["exposure"] = exposure.get(row["pay_cycle"], {})
        counts = exceptions.get(row["pay_cycle"], {})
        row["open_exceptions"] = int(counts.get("open_exceptions") or 0)
        row["resolved_exceptions"] = int(counts.get("resolved_exceptions") or 0)
        row["balance_proof_ok"] = None if row["balance_proof_ok"] is None else bool(row["balance_proof_ok"])
    return cycles


def _per_cycle_currency(wh: Warehouse, sql: str) -> dict[dt.date, dict[str, Decimal]]:
    out: dict[dt.date, dict[str, Decimal]] = defaultdict(dict)
    for r in wh.fetch_dicts(sql):
        out[r["pay_cycle"]][r["currency"]] = r["amount"]
    return out


def cycle_accounts(wh: Warehouse, cycle: dt.date) -> list[dict[str, Any]]:
    return wh.fetch_dicts("select * from portal.cycles where pay_cycle = ? order by account_iban, currency",
                          (cycle,))


def cycle_exceptions(wh: Warehouse, cycle: dt.date) -> list[dict[str, Any]]:
    return wh.fetch_dicts(
        "select * from portal.exceptions where pay_cycle = ? "
        "order by case when status = 'open' then 0 else 1 end, priority, amount desc, exception_id", (cycle,))


def exception_detail(wh: Warehouse, exception_id: str) -> dict[str, Any] | None:
    """The exception as of its latest cycle, both sides as of that cycle, the links that are
    its evidence, and everything that happened to it (per-cycle rows and operator decisions)."""
    history = wh.fetch_dicts("select * from portal.exceptions where exception_id = ? order by pay_cycle",
                             (exception_id,))
    if not history:
        return None
    latest = history[-1]
    payment = bank_line = None
    if latest.get("payment_id"):
        payment = _as_of(wh, "payments", "payment_id", latest["payment_id"], latest["pay_cycle"])
    if latest.get("bank_line_id"):
        bank_line = _as_of(wh, "bank_lines", "bank_line_id", latest["bank_line_id"], latest["pay_cycle"])
    links = wh.fetch_dicts(
        "select * from portal.links where (payment_id = ? or bank_line_id = ?) and pay_cycle <= ? "
        "order by pay_cycle, match_id, payment_id, bank_line_id",
        (latest.get("payment_id") or "", latest.get("bank_line_id") or "", latest["pay_cycle"]))
    resolutions = wh.fetch_dicts("select * from portal.resolutions where exception_id = ? order by resolved_at",
                                 (exception_id,))
    return {"exception": latest, "history": history, "payment": payment, "bank_line": bank_line,
            "links": links, "resolutions": resolutions}


def _as_of(wh: Warehouse, table: str, key: str, item_id: str, cycle: dt.date) -> dict[str, Any] | None:
    rows = wh.fetch_dicts(
        f"select * from portal.{table} where {key} = ? and pay_cycle <= ? order by pay_cycle desc limit 1",
        (item_id, cycle))
    if not rows:  # an item first seen after the exception's cycle: show its earliest row
        rows = wh.fetch_dicts(f"select * from portal.{table} where {key} = ? order by pay_cycle limit 1",
                              (item_id,))
    return rows[0] if rows else None


def dashboard_series(wh: Warehouse) -> dict[str, Any]:
    """Per cycle, oldest first: match rate, open exceptions, exposure per currency."""
    cycles = list(reversed(list_cycles(wh)))
    currencies = sorted({c for row in cycles for c in row["exposure"]})
    return {
        "cycles": [row["pay_cycle"] for row in cycles],
        "match_rate": [row["match_rate"] for row in cycles],
        "open_exceptions": [row["open_exceptions"] for row in cycles],
        "exposure": {cur: [row["exposure"].get(cur, Decimal(0)) for row in cycles] for cur in currencies},
        "rows": cycles,
    }
