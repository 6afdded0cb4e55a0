"""Money to the cent, end to end: the marts' money columns are DECIMAL, and per account and pay
cycle the amounts in the marts and in the close pack equal the generator's truth exactly.

Shared by the DuckDB week, the Postgres run and the time-zone/tie scenario. The pack checks
use only what CONTRACT.md §3 fixes (the Exceptions sheet and its ``Exception id`` column, an
amount at stake per exception), so they survive a rewrite of the pack's layout.
"""
from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from tests.money import cell_decimal

MONEY_COLUMN = re.compile(r"amount|balance|movements|difference")
NOT_MONEY = re.compile(r"_(ok|count|days|rate)$")


def _is_money(column: str) -> bool:
    return bool(MONEY_COLUMN.search(column)) and not NOT_MONEY.search(column)


def mart_column_types(wh) -> dict[tuple[str, str], str]:
    rows = wh.fetchall("select table_name, column_name, data_type from information_schema.columns "
                       "where table_schema = 'marts'")
    return {(r[0], r[1]): str(r[2]).lower() for r in rows}


def assert_money_columns_are_decimal(wh) -> list[tuple[str, str]]:
    """Every money column of every mart is DECIMAL (``numeric`` on Postgres); none is a float."""
    types = mart_column_types(wh)
    money = sorted(k for k in types if _is_money(k[1]))
    assert ("fct_exceptions", "amount") in money and ("fct_payment_reconciliation", "amount") in money, money
    not_decimal = {k: types[k] for k in money if not types[k].startswith(("decimal", "numeric"))}
    assert not not_decimal, f"money columns that are not DECIMAL: {not_decimal}"
    return money


def _d(value: Any) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def truth_sums(truth: dict) -> tuple[dict, dict]:
    """(account, cycle) -> exact sum: payments by their pay cycle, bank lines by booking date."""
    payments: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for p in truth["payments"]:
        payments[(p["account_iban"], p["pay_cycle"])] += Decimal(p["amount"])
    lines: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for ln in truth["bank_lines"]:
        lines[(ln["account_iban"], ln["booking_date"])] += Decimal(ln["amount"])
    return dict(payments), dict(lines)


def _first_rows_by_account_and_cycle(wh, mart: str, key: str) -> dict[tuple[str, str], list[Decimal]]:
    """The amounts of each item's first row (its own cycle), grouped by account and that cycle."""
    grouped: dict[tuple[str, str], list[Decimal]] = defaultdict(list)
    for account, cycle, amount in wh.fetchall(f"""
            select account_iban, pay_cycle, amount from (
                select *, row_number() over (partition by {key} order by pay_cycle) as n
                from marts.{mart}) as t
            where n = 1"""):
        grouped[(account, cycle.isoformat())].append(_d(amount))
    return dict(grouped)


def assert_marts_tie_to_truth(wh, truth: dict) -> None:
    """Each payment's first row (its own cycle) and each bank line's first row carry the truth's
    amount in the truth's cycle; summed per account and cycle they equal the truth to the cent;
    the close summary's statement movements equal the truth's bookings."""
    want_payments, want_lines = truth_sums(truth)
    got_payments = _first_rows_by_account_and_cycle(wh, "fct_payment_reconciliation", "payment_id")
    # Payment amounts are unsigned (the direction says which way); the truth's too.
    assert {k: sum(map(abs, v)) for k, v in got_payments.items()} == want_payments
    got_lines = _first_rows_by_account_and_cycle(wh, "fct_bank_line_reconciliation", "bank_line_id")
    assert {k: sum(v) for k, v in got_lines.items()} == want_lines

    movements = {(r[0], r[1].isoformat()): _d(r[2]) for r in wh.fetchall(
        "select account_iban, pay_cycle, statement_movements from marts.rpt_close_summary "
        "where statement_movements is not null")}
    for key, amount in want_lines.items():
        assert movements.get(key) == amount, (key, movements.get(key), amount)


def open_exception_amounts(wh, cycle: dt.date) -> dict[str, tuple[str, str | None, Decimal]]:
    """exception_id -> (exception_type, payment_id, amount) for the cycle's open exceptions."""
    return {r[0]: (r[1], r[2], _d(r[3])) for r in wh.fetchall(
        "select exception_id, exception_type, payment_id, amount from marts.fct_exceptions "
        "where pay_cycle = ? and status = 'open'", (cycle,))}


def assert_missing_in_bank_ties_to_truth(wh, truth: dict) -> None:
    """Per account, the open missing_in_bank exceptions of the last cycle add up to the truth's."""
    last = dt.date.fromisoformat(truth["last_cycle"])
    account_of = {p["payment_id"]: p["account_iban"] for p in truth["payments"]}
    want: dict[str, Decimal] = defaultdict(Decimal)
    for p in truth["payments"]:
        if p["expected_exception_type"] == "missing_in_bank":
            want[p["account_iban"]] += Decimal(p["amount"])
    got: dict[str, Decimal] = defaultdict(Decimal)
    for kind, payment_id, amount in open_exception_amounts(wh, last).values():
        if kind == "missing_in_bank":
            got[account_of[payment_id]] += abs(amount)
    assert dict(got) == dict(want)


def _exceptions_table(path: Path) -> tuple[list[str], list[list[Any]]]:
    ws = load_workbook(path, read_only=True)["Exceptions"]
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    top = next(i for i, r in enumerate(rows) if "Exception id" in [str(c).strip() if c else c for c in r])
    headers = [str(c).strip() if c is not None else "" for c in rows[top]]
    return headers, [r for r in rows[top + 1:] if r and r[headers.index("Exception id")]]


def _amount_column(headers: list[str]) -> int:
    lowered = [h.lower() for h in headers]
    for wanted in ("at stake", "amount"):
        for i, h in enumerate(lowered):
            if wanted in h and "difference" not in h:
                return i
    raise AssertionError(f"no amount column on the Exceptions sheet: {headers}")


def open_exception_amounts_at_stake(wh, cycle: dt.date) -> dict[str, Decimal]:
    """exception_id -> the amount at stake (the fee or difference on a link, the item otherwise),
    as ``rpt_exceptions`` states it for the cycle's open exceptions."""
    return {r[0]: _d(r[1]) for r in wh.fetchall(
        "select exception_id, amount_at_stake from marts.rpt_exceptions "
        "where pay_cycle = ? and status = 'open'", (cycle,))}


def assert_pack_exceptions_tie_to_warehouse(pack: Path, wh, cycle: dt.date) -> dict[str, list[Any]]:
    """Every exception on the pack's Exceptions sheet shows the warehouse's amount to the cent
    (read back as a decimal, so float noise fails), and the sheet lists every open exception.
    A sheet with an "at stake" column ties it to ``rpt_exceptions.amount_at_stake``; a plain
    amount column to ``fct_exceptions.amount``."""
    headers, rows = _exceptions_table(pack)
    id_col, amount_col = headers.index("Exception id"), _amount_column(headers)
    if "at stake" in headers[amount_col].lower():
        want = {k: (None, None, v) for k, v in open_exception_amounts_at_stake(wh, cycle).items()}
        assert set(want) == set(open_exception_amounts(wh, cycle))
    else:
        want = open_exception_amounts(wh, cycle)
    by_id = {str(r[id_col]): r for r in rows}
    assert set(want) <= set(by_id), sorted(set(want) - set(by_id))[:5]
    for exception_id, (_, _, amount) in want.items():
        shown = cell_decimal(by_id[exception_id][amount_col])
        assert shown is not None and abs(shown) == abs(amount), (exception_id, shown, amount)
    return by_id
