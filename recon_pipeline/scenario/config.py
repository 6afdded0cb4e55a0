"""The fixed settings every generated scenario shares, and that its truth reports.

A scenario is only an answer key if it is built with the same rules recon runs with: the
settlement window (CONTRACT §2) decides when an open item becomes an exception, the fee
tolerance decides when a booked amount that differs is a fee rather than a mismatch. They
live here once, so the traps that lean on them and ``truth.json`` that states them agree.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

SETTLEMENT_WINDOW_DAYS = 3
FEE_TOLERANCE = Decimal("50.00")
CURRENCY = "EUR"
# The Kafka topic and partition count the event snapshots pretend to come from.
TOPIC = "payments.events"
PARTITIONS = 3
CENT = Decimal("0.01")
UTC = dt.UTC
