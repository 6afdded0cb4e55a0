"""IBAN shape and validity, the one place that says what an IBAN is (ISO 13616).

Validity (country, length, BBAN structure and the mod-97 check digits) comes from ``schwifty``,
a maintained IBAN library, not from hand-written arithmetic. Only the *shape* stays a pattern:
it decides whether a value is meant as an IBAN at all (two letters, two check digits, 11-30
alphanumerics; the shortest IBAN, Norway's, has 15 characters), because plain account numbers
(MT940, BAI2) are normal and must not be judged as broken IBANs.
"""
from __future__ import annotations

import functools
import re
from typing import Any

from schwifty import IBAN
from schwifty.exceptions import SchwiftyException

IBAN_SHAPE = re.compile(r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$")


def compact_account(value: Any) -> str | None:
    """An account id without spaces, upper case (how IBANs are printed in groups of four)."""
    if value is None:
        return None
    return re.sub(r"\s+", "", str(value)).upper()


@functools.lru_cache(maxsize=65536)
def iban_shaped(value: Any) -> bool:
    """Whether the value is meant as an IBAN (its shape), whatever its check digits say."""
    text = compact_account(value)
    return bool(text) and IBAN_SHAPE.match(text) is not None


# The two checks the quality gates run per row are cached: a cycle's events and lines name the
# same few thousand accounts over and over, and schwifty's parse was most of the input gate's
# time at 40,000 payments a day (values are strings or None, so they hash).
def iban_valid(value: Any) -> bool:
    """A real IBAN: known country, its length and BBAN structure, mod-97 check digits."""
    text = compact_account(value)
    return bool(text) and _valid_text(text)


def _valid_text(text: str) -> bool:
    try:
        IBAN(text)
    except (SchwiftyException, ValueError):
        return False
    return True


@functools.lru_cache(maxsize=65536)
def iban_checksum_ok(value: Any) -> bool | None:
    """Validity for IBAN-shaped values; None when the value is not IBAN-shaped.

    None means "not applicable", which the GX suites skip: a plain account number is not a
    malformed IBAN.
    """
    if not iban_shaped(value):
        return None
    return iban_valid(value)
