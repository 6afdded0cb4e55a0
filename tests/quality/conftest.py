"""Fixtures for the data-quality gates: a generated scenario loaded by the real loaders.

One scenario (9 days from Monday 2026-11-02, two accounts: DE camt.053, NL MT940) is
generated once per session. Each test gets its own RECON_HOME with a copy of the inbox,
injects its anomaly into the inbox (an extra event file, an edited MT940 statement, a
deleted statement), then lands and loads it with the production code paths
(``scan_inbox`` + ``LandingZone`` + ``load_statement_files`` / ``load_event_files``).
"""
from __future__ import annotations

import datetime as dt
import gzip
import json
import re
import shutil
import uuid
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from recon_pipeline.scenario.generator import ACCOUNT_A, ACCOUNT_B, generate_scenario

START = dt.date(2026, 11, 2)          # a Monday
DAYS = 9                              # ... to Tuesday 2026-11-10
LAST = START + dt.timedelta(days=DAYS - 1)
PER_DAY = 40
SEED = 11
NOW_AFTER_SCENARIO = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC)

DE = ACCOUNT_A.iban                   # camt.053
NL = ACCOUNT_B.iban                   # MT940


@pytest.fixture(scope="session")
def scenario_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dq_scenario")
    generate_scenario(out, START, days=DAYS, payments_per_day=PER_DAY, seed=SEED)
    return out


# ----------------------------------------------------------------------------- MT940 editing
_BAL = re.compile(r"^(:6[02]F:)([CD])(\d{6})([A-Z]{3})([0-9]+,[0-9]*)$")
_ENTRY = re.compile(r"^(:61:\d{10})(R?[CD])([0-9]+,[0-9]*)(N.*)$")


def _dec(text: str) -> Decimal:
    return Decimal(text.replace(",", "."))


def _mt(value: Decimal) -> str:
    return f"{abs(value):.2f}".replace(".", ",")


@dataclass
class Mt940:
    """A generated MT940 statement, editable entry by entry, re-balanced on write."""

    head: list[str]
    entries: list[list[str]]
    tail: list[str]

    @classmethod
    def read(cls, path: Path) -> Mt940:
        lines = path.read_bytes().decode("ascii").split("\r\n")
        while lines and not lines[-1]:
            lines.pop()
        head, entries, tail = [], [], []
        for line in lines:
            if line.startswith(":61:"):
                entries.append([line])
            elif line.startswith(":62F:") or tail:
                tail.append(line)
            elif entries and (line.startswith(":86:") or not line.startswith(":")):
                entries[-1].append(line)
            else:
                head.append(line)
        return cls(head, entries, tail)

    # -- fields ------------------------------------------------------------------
    def _balance_index(self, lines: list[str], tag: str) -> int:
        return next(i for i, ln in enumerate(lines) if ln.startswith(tag))

    @property
    def opening(self) -> Decimal:
        m = _BAL.match(self.head[self._balance_index(self.head, ":60F:")])
        return _dec(m.group(5)) * (1 if m.group(2) == "C" else -1)

    @opening.setter
    def opening(self, value: Decimal) -> None:
        i = self._balance_index(self.head, ":60F:")
        m = _BAL.match(self.head[i])
        self.head[i] = f":60F:{'C' if value >= 0 else 'D'}{m.group(3)}{m.group(4)}{_mt(value)}"

    def set_account(self, account: str) -> None:
        i = self._balance_index(self.head, ":25:")
        self.head[i] = f":25:{account}"

    @staticmethod
    def amount(entry: list[str]) -> Decimal:
        m = _ENTRY.match(entry[0])
        sign = -1 if m.group(2).endswith("D") else 1
        return _dec(m.group(3)) * sign

    @staticmethod
    def with_amount(entry: list[str], value: Decimal) -> list[str]:
        m = _ENTRY.match(entry[0])
        mark = "C" if value >= 0 else "D"
        return [f"{m.group(1)}{mark}{_mt(value)}{m.group(4)}"] + entry[1:]

    @staticmethod
    def bank_reference(entry: list[str]) -> str:
        return entry[0].rsplit("//", 1)[1]

    def write(self, path: Path, closing_adjust: Decimal = Decimal("0")) -> None:
        """Write with a closing balance that proves (opening + movements), plus ``closing_adjust``."""
        closing = self.opening + sum((self.amount(e) for e in self.entries), Decimal("0")) + closing_adjust
        i = self._balance_index(self.tail, ":62F:")
        m = _BAL.match(self.tail[i])
        tail = list(self.tail)
        tail[i] = f":62F:{'C' if closing >= 0 else 'D'}{m.group(3)}{m.group(4)}{_mt(closing)}"
        lines = self.head + [ln for e in self.entries for ln in e] + tail
        path.write_bytes(("\r\n".join(lines) + "\r\n").encode("ascii"))


# ----------------------------------------------------------------------------- a test's RECON_HOME
@dataclass
class DqHome:
    root: Path

    @property
    def statements_dir(self) -> Path:
        return self.root / "inbox" / "statements"

    @property
    def events_dir(self) -> Path:
        return self.root / "inbox" / "events"

    @property
    def env(self) -> dict[str, str]:
        return {"RECON_HOME": str(self.root)}

    def settings(self):
        from recon_pipeline.settings import load_settings

        return load_settings(environ=self.env)

    def warehouse(self, read_only: bool = False):
        from recon_pipeline.warehouse.connection import open_warehouse

        return open_warehouse(self.settings(), read_only=read_only)

    # -- inbox edits -------------------------------------------------------------
    def statement_path(self, account: str, day: dt.date) -> Path:
        ext = "sta" if account == NL else "xml"
        return self.statements_dir / f"{account}_{day.isoformat()}.{ext}"

    def mt940(self, day: dt.date) -> Mt940:
        return Mt940.read(self.statement_path(NL, day))

    def events_on(self, day: dt.date) -> list[dict[str, Any]]:
        """The generated events of ``day``'s snapshot (bare, enveloped or gzipped) that belong to
        ``day``'s pay cycle: a snapshot also carries late events of earlier cycles, and an anomaly
        modelled on one of those would land in another cycle than the one the test checks."""
        from recon_pipeline.cycles import cycle_of

        settings = self.settings()
        return [e for e in self._snapshot(day)
                if cycle_of(dt.datetime.fromisoformat(e["occurred_at"].replace("Z", "+00:00")),
                            settings.timezone, settings.cutoff) == day]

    def _snapshot(self, day: dt.date) -> list[dict[str, Any]]:
        plain = self.events_dir / f"events_{day.isoformat()}.jsonl"
        data = plain.read_bytes() if plain.exists() else gzip.decompress(
            (self.events_dir / f"events_{day.isoformat()}.jsonl.gz").read_bytes())
        out = []
        for line in data.decode("utf-8").splitlines():
            obj = json.loads(line)
            out.append(json.loads(obj["payload"]) if "payload" in obj else obj)
        return out

    def add_events(self, name: str, events: list[dict[str, Any]]) -> Path:
        path = self.events_dir / f"{name}.jsonl"
        path.write_text("".join(json.dumps(e) + "\n" for e in events), encoding="utf-8")
        return path

    def load(self) -> None:
        """Land the inbox and load it with the real loaders (what raw_* assets do)."""
        from recon_pipeline.landing import LandingZone
        from recon_pipeline.sources.local_inbox import scan_inbox
        from recon_pipeline.warehouse.load_events import load_event_files
        from recon_pipeline.warehouse.load_statements import load_statement_files

        settings = self.settings()
        settings.ensure_dirs()
        landing = LandingZone(settings.landing_dir)
        scan_inbox(settings.statements_dir, landing, "statements")
        scan_inbox(settings.events_dir, landing, "events")
        with self.warehouse() as wh:
            statements = load_statement_files(wh, landing)
            events = load_event_files(wh, landing)
        assert not statements.quarantined, statements.quarantined
        assert not events.quarantined, events.quarantined

    def check(self, cycle: dt.date | str, now: dt.datetime = NOW_AFTER_SCENARIO):
        """Run and store the input gate for a cycle; returns the CycleReport."""
        from recon_pipeline.quality import check_cycle_inputs

        with self.warehouse() as wh:
            return check_cycle_inputs(wh, str(cycle), self.settings(), now=now)

    def stored(self, cycle: dt.date | str) -> list[dict[str, Any]]:
        from recon_pipeline.quality import read_check_results

        with self.warehouse(read_only=True) as wh:
            return read_check_results(wh, str(cycle))


@pytest.fixture
def dq_home(tmp_path, scenario_dir) -> DqHome:
    home = DqHome(tmp_path / "home")
    shutil.copytree(scenario_dir / "statements", home.statements_dir)
    shutil.copytree(scenario_dir / "events", home.events_dir)
    return home


@pytest.fixture
def loaded_home(dq_home) -> DqHome:
    dq_home.load()
    return dq_home


def event_like(template: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A new event modelled on a generated one (fresh event_id unless given)."""
    obj = dict(template)
    obj["event_id"] = changes.pop("event_id", f"evt-dq-{uuid.uuid4()}")
    obj.update(changes)
    return obj


def failing(report, check_name: str):
    result = report.result(check_name)
    assert not result.passed, f"{check_name} passed but should have failed: {result.summary()}"
    return result


def only_failures(report) -> dict[str, Any]:
    return {r.check_name: r for r in report.results if not r.passed}

