"""Search every cycle's payments and bank lines by id, end-to-end id, bank reference, amount or
counterparty name.

Each kind of key has its own table sorted by that key (built in ``snapshot``), so a lookup
touches a handful of row groups (DuckDB zone maps) or one index range (Postgres) instead of
scanning millions of lines; the matching items are then joined on their integer number. Names are matched
as substrings, but only against the small table of distinct names first.
"""
from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from recon_pipeline.warehouse.connection import Warehouse

MAX_RESULTS = 100
_MAX_NAMES = 50
_MIN_PREFIX = 4  # shorter keys match too much to be useful as prefixes
_TOP = "\U0010ffff"  # sorts after every character: key >= q and key < q + _TOP is "starts with q"
_AMOUNT = re.compile(r"^[+-]?\d[\d,' ]*(\.\d+)?$")


def parse_amount(text: str) -> Decimal | None:
    """'1,234.50', '1234.5', '-250', "1'000.00" -> the unsigned Decimal; None when not an amount.
    Bank lines and payments carry signs the searcher rarely knows, so the sign is dropped."""
    text = text.strip()
    if not _AMOUNT.match(text):
        return None
    try:
        return abs(Decimal(re.sub(r"[,' +]", "", text)))
    except InvalidOperation:
        return None


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search(wh: Warehouse, query: str, limit: int = MAX_RESULTS) -> list[dict[str, Any]]:
    """Items whose id, end-to-end id or bank reference equals (or starts with) the query, whose
    amount equals it, or whose counterparty name contains it; exact key hits first."""
    q = " ".join(query.split()).lower()
    if not q:
        return []
    cap = int(limit) + 1  # each kind of match stops early: a common name never means millions of rows
    parts = [f"select item_no, 0 as rank from portal.search_keys where search_key = ? limit {cap}"]
    params: list[Any] = [q]
    if len(q) >= _MIN_PREFIX:
        parts.append(f"select item_no, 1 as rank from portal.search_keys "
                     f"where search_key > ? and search_key < ? limit {cap}")
        params += [q, q + _TOP]
    amount = parse_amount(q)
    if amount is not None:
        parts.append(f"select item_no, 2 as rank from portal.search_amounts where amount_abs = ? limit {cap}")
        params.append(amount)
    if len(q) >= 2 and amount is None:
        parts.append("select item_no, 3 as rank from portal.search_names where name_no in "
                     "(select name_no from portal.names where name_key like ? escape '\\' "
                     f"order by name_key limit {_MAX_NAMES}) limit {cap}")
        params.append(f"%{_like_escape(q)}%")
    # A join on the integer item_no, not an IN list: DuckDB scans millions of rows for the latter.
    # Ordered by kind and id, not by item_no: numbers follow (kind, id) only in a snapshot built
    # from scratch; one updated in place numbers new items last.
    return wh.fetch_dicts(
        "with hits as (select item_no, min(rank) as rank from (" + " union all ".join(f"({p})" for p in parts) +
        ") as found group by item_no) "
        "select i.* from portal.items as i join hits as h on h.item_no = i.item_no "
        f"order by h.rank, i.kind, i.item_id limit {int(limit)}",
        params)
