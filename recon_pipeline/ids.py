"""Deterministic identifiers.

Every id recon hands out is derived from content, so the same inputs give the same ids
however often files or events are re-delivered, and a re-run rebuilds identical rows.
"""
from __future__ import annotations

import hashlib


def content_id(prefix: str, *parts: object, length: int = 24) -> str:
    """Return ``<prefix>_<hex>`` where hex is a sha256 of the parts joined unambiguously.

    ``None`` is encoded distinctly from the empty string so that a missing reference and an
    empty one never collide.
    """
    h = hashlib.sha256()
    for part in parts:
        token = "\x00" if part is None else str(part)
        h.update(token.encode("utf-8"))
        h.update(b"\x1f")
    return f"{prefix}_{h.hexdigest()[:length]}"


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
