"""Render a daily statement as SWIFT MT940, the way ING-style Dutch banks write it.

What makes MT940 hard to reconcile is reproduced on purpose:

* lines are at most 65 characters, so the ``:86:`` narrative is cut into continuation lines
  in the middle of a value (as ING does); a parser must join them without adding spaces;
* the ``:61:`` customer reference keeps only the first 16 characters of our end-to-end id,
  so the full id is only in the ``:86:`` ``/EREF/`` sub-field (and for some lines the bank
  truncates that too - the generator decides, by passing a truncated ``end_to_end_id``);
* text is restricted to the SWIFT X character set: umlauts are transliterated, ``&`` and
  ``<`` disappear, ``/`` (the sub-field separator) is replaced.

The ``:86:`` layout follows ING's structured format, where every sub-field is
``/TAG/value/`` and consecutive sub-fields therefore meet as ``//``::

    /RTRN/AC04//EREF/<e2e>//CNTP/<iban>/<bic>/<name>/<city>//REMI/USTD//<text>/
    /PREF/<batch id>//REMI/USTD//<text>/

Lines end in CRLF, as files from SWIFT-connected banks do.
"""
from __future__ import annotations

import datetime as dt
import re
import unicodedata
from decimal import Decimal

from recon_pipeline.scenario.writers import Entry, StatementDoc, money

MAX_LINE = 65
MAX_86_LINES = 6
EOL = "\r\n"
_TRANSLIT = {"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "ß": "ss",
             "æ": "ae", "Æ": "AE", "ø": "o", "Ø": "O", "å": "a", "Å": "A"}
_NOT_SWIFT_X = re.compile(r"[^A-Za-z0-9?:().,'+ -]")


def write_mt940(statement: StatementDoc) -> bytes:
    """Return the MT940 text of one statement (ASCII, CRLF line ends, lines <= 65 chars)."""
    day = statement.statement_date
    ccy = statement.currency
    paginated = statement.page > 1 or not statement.last_page
    first, last = statement.page == 1, statement.last_page
    lines = [
        f":20:{day:%y%m%d}STMT{statement.sequence:04d}" + (f"{statement.page:02d}" if paginated else ""),
        f":25:{statement.account_iban}",
        f":28C:{statement.sequence:05d}/{statement.page:03d}",
        # The opening balance carries the date of the previous statement's closing balance; a
        # later page opens with the interim balance (M) the page before closed with.
        f":60{'F' if first else 'M'}:"
        f"{_balance(statement.opening_balance, day - dt.timedelta(days=1) if first else day, ccy)}",
    ]
    for entry in statement.entries:
        lines.append(statement_line(entry))
        lines.extend(wrap_86(narrative(entry)))
    lines.append(f":62{'F' if last else 'M'}:{_balance(statement.closing_balance, day, ccy)}")
    for line in lines:
        if len(line) > MAX_LINE:
            raise ValueError(f"MT940 line longer than {MAX_LINE} characters: {line!r}")
    return (EOL.join(lines) + EOL).encode("ascii")


def swift_text(text: str | None) -> str:
    """Fold text into the SWIFT X character set, without the ``/`` sub-field separator."""
    if not text:
        return ""
    folded = "".join(_TRANSLIT.get(ch, ch) for ch in text)
    folded = unicodedata.normalize("NFKD", folded).encode("ascii", "ignore").decode("ascii")
    folded = _NOT_SWIFT_X.sub(" ", folded.replace("/", "-").replace(":", " "))
    return " ".join(folded.split())


def statement_line(entry: Entry) -> str:
    """``:61:`` value date, entry date, C/D, amount, type, customer ref // bank ref."""
    mark = "C" if entry.amount >= 0 else "D"
    type_code = "NRTI" if entry.return_reason else "NTRF"
    reference = entry.customer_reference or entry.end_to_end_id or entry.batch_id or "NONREF"
    if len(entry.bank_reference) > 16:
        raise ValueError(f"MT940 bank reference longer than 16 characters: {entry.bank_reference!r}")
    return (f":61:{entry.value_date:%y%m%d}{entry.booking_date:%m%d}{mark}"
            f"{_amount(entry.amount)}{type_code}{reference[:16]}//{entry.bank_reference}")


def narrative(entry: Entry) -> str:
    """The ING-structured ``:86:`` text for one entry (before wrapping)."""
    parts: list[str] = []
    if entry.return_reason:
        parts.append(f"/RTRN/{swift_text(entry.return_reason)}/")
    if entry.end_to_end_id:
        parts.append(f"/EREF/{entry.end_to_end_id}/")
    if entry.batch_id:
        parts.append(f"/PREF/{entry.batch_id}/")
        count = len(entry.details) or 1
        parts.append(f"/REMI/USTD//TOTAAL {count} POSTEN/")
        return "".join(parts)
    party = entry.counterparty
    if party is not None:
        parts.append("/CNTP/" + "/".join(swift_text(v) for v in (party.iban, party.bic, party.name,
                                                                  party.city)) + "/")
    parts.append(f"/REMI/USTD//{swift_text(entry.remittance)}/")
    return "".join(parts)


def wrap_86(text: str) -> list[str]:
    """Cut ``:86:`` text into lines of at most 65 characters.

    Cuts fall wherever the limit is (mid-value, like ING), except that a line never ends in or
    starts with a space (trailing blanks get stripped in transit) and a continuation line never
    starts with ``:`` or ``-`` (it would read as a new field or the end of the message).
    """
    lines: list[str] = []
    rest = text
    width = MAX_LINE - len(":86:")
    while rest:
        cut = min(width, len(rest))
        if cut < len(rest):
            # Step back (a little) to the nearest cut that is safe on both sides.
            for candidate in range(cut, max(cut - 20, 1), -1):
                if rest[candidate - 1] != " " and rest[candidate] not in " :-":
                    cut = candidate
                    break
        lines.append(rest[:cut])
        rest = rest[cut:]
        width = MAX_LINE
    if len(lines) > MAX_86_LINES:
        raise ValueError(f"MT940 :86: narrative needs {len(lines)} lines, at most {MAX_86_LINES}")
    lines[0] = ":86:" + lines[0]
    return lines


def _amount(value: Decimal) -> str:
    return money(value).replace(".", ",")


def _balance(amount: Decimal, day: dt.date, currency: str) -> str:
    return f"{'C' if amount >= 0 else 'D'}{day:%y%m%d}{currency}{_amount(amount)}"
