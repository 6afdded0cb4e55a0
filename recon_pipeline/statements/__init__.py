"""Bank statement parsing: one module per format, one entry point.

``parse_statement`` sniffs the format from the bytes (never from the file name alone, since
banks name files inconsistently) and hands them to the matching parser. Every failure is a
``StatementParseError`` whose message is the one-line reason a user sees in quarantine.
"""
from recon_pipeline.statements.dispatch import detect_format, parse_statement
from recon_pipeline.statements.model import (
    LineDetail,
    ParsedFile,
    Statement,
    StatementLine,
    StatementParseError,
)

__all__ = [
    "LineDetail",
    "ParsedFile",
    "Statement",
    "StatementLine",
    "StatementParseError",
    "parse_statement",
    "detect_format",
]
