"""One-line reasons: how every quarantine row, failed check and command-line error states a cause.

Quarantine tables, check results, holds and the command line all show a reason on one line
(a log line, a spreadsheet cell, a terminal): whitespace collapsed, cut to a bounded length so a
hostile message cannot flood a table. One definition, so the reasons read alike everywhere.
"""
from __future__ import annotations

REASON_LIMIT = 300


def one_line(text: object, limit: int = REASON_LIMIT) -> str:
    """``text`` with every run of whitespace (newlines included) made one space, cut to ``limit``."""
    return " ".join(str(text).split())[:limit]


def exception_line(exc: BaseException, limit: int = REASON_LIMIT) -> str:
    """``ExceptionType: message`` on one line, the message cut to ``limit``."""
    return f"{type(exc).__name__}: {one_line(exc, limit)}"
