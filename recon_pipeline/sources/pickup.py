"""Pick up new input from every configured source: one path for the sensors and ``recon run``.

Each source has one function here, and both callers use it: the inbox, SFTP and Kafka sensors
call ``pick_up_inbox`` / ``pick_up_sftp`` / ``plan_kafka`` once per tick, and ``recon run``
calls ``pick_up``, which calls the same functions once per run (landing the Kafka plan itself
instead of handing it to a run). Every source is scanned once per tick or run: the ingestion
assets load what landed and scan the inbox only for a run nobody picked up for (one launched
from the UI, see ``picked_up_for``).

Where pick-up state lives: **the warehouse's ledgers**, and only there.

* ``raw.kafka_offset_ledger`` — which Kafka offsets have landed; every plan starts from it.
* ``raw.sftp_looks`` — the last look at the bank's SFTP folder (size, mtime, when first seen,
  and the sha256 once the bytes have landed), which the two-look stability rule needs.

Why the warehouse: it is the one store every picking-up process already opens — ``recon run``,
the runs the sensors request, and the sensor ticks in the daemon — and it sits beside the data
whose lineage the ledgers record. State kept in a sensor's cursor is invisible to ``recon run``
(which then took its own looks in a JSON file, and re-downloaded what the sensor had taken),
and a file of its own is one more thing to keep in step. So sensor cursors hold nothing, and
the Kafka consumer group's committed offsets are an export for lag dashboards, never read back.
A Kafka sensor tick before the run for its plan has landed plans the same ranges again, under
the same run key, which Dagster drops.

Not state: what has landed is the landing zone's content (addressed by sha256; a re-delivery
lands nothing), and the inbox's fingerprint index beside it is a cache that saves re-hashing
unchanged files (losing it costs one hash per file, never a duplicate).

On DuckDB one process writes at a time: a sensor tick that cannot open the warehouse because
a run holds it skips with that reason, and the next tick picks up; nothing is lost.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from recon_pipeline.events.kafka.client import KafkaSnapshotError, KafkaUnavailable
from recon_pipeline.events.kafka.plan import SnapshotPlan, plan_snapshot
from recon_pipeline.landing import LandingZone
from recon_pipeline.run_tags import TRIGGER_TAG
from recon_pipeline.settings import Settings
from recon_pipeline.sources.kafka import SnapshotResult, read_ledger_ends, snapshot_topics
from recon_pipeline.sources.local_inbox import InboxScan, scan_inbox
from recon_pipeline.sources.sftp.errors import SftpSourceError, source_label
from recon_pipeline.sources.sftp.pull import DEFAULT_DEADLINE_SECONDS, PullResult, pull_statements
from recon_pipeline.warehouse.connection import open_warehouse
from recon_pipeline.warehouse.sftp_looks import read_looks, write_looks

SOURCE_TAG = "recon/source"          # inbox / sftp / kafka: which pick-up requested the run
SECOND_LOOK_SECONDS = 3.0            # `recon run` has no next tick: it takes its second look this much later


class PickupError(RuntimeError):
    """A source could not be picked up at all; the message is one line."""


@dataclass
class PickupReport:
    """What one ``pick_up`` landed, as ``recon run`` prints it."""

    statement_files_new: int = 0
    event_files_new: int = 0
    kafka_messages: int = 0
    notes: list[str] = field(default_factory=list)


def picked_up_for(run_tags: dict[str, str]) -> bool:
    """Whether a run's input was picked up before it started (by a sensor tick or ``recon run``).

    Such a run only loads what landed; any other run (launched from the UI) sweeps the inbox
    folders first, so "Materialize" in the UI still sees files dropped there.
    """
    return SOURCE_TAG in run_tags or run_tags.get(TRIGGER_TAG) == "recon run"


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


# ----- inbox ----------------------------------------------------------------------------------
def inbox_folders(settings: Settings, kinds: tuple[str, ...] = ("statements", "events")) -> list[tuple[Path, str]]:
    folders: list[tuple[Path, str]] = []
    if "statements" in kinds:
        folders.append((settings.statements_dir, "statements"))
    if "events" in kinds:
        folders.extend((folder, "events") for folder in settings.events_dirs)
    return folders


def pick_up_inbox(settings: Settings, landing: LandingZone,
                  kinds: tuple[str, ...] = ("statements", "events")) -> list[tuple[str, InboxScan]]:
    """Land every new file of the inbox folders, each folder scanned once: ``(kind, scan)`` per folder."""
    return [(kind, scan_inbox(folder, landing, kind)) for folder, kind in inbox_folders(settings, kinds)]


# ----- SFTP -----------------------------------------------------------------------------------
def pick_up_sftp(settings: Settings, landing: LandingZone, *, second_look_after: float | None = None,
                 deadline: float | None = DEFAULT_DEADLINE_SECONDS) -> PullResult:
    """Pull complete statement files with the looks in ``raw.sftp_looks``, then store the new looks.

    Raises ``SftpSourceError`` when nothing could be pulled, ``PickupError`` when the warehouse
    holding the looks cannot be opened. The warehouse is opened twice, briefly, rather than
    held through the pull, so a run is never kept waiting for a slow bank. If the new looks
    cannot be stored, what landed stays landed (and is reported); the next pull re-reads those
    files and finds their bytes already landed.
    """
    assert settings.sftp is not None
    source = source_label(settings.sftp)
    try:
        with open_warehouse(settings) as wh:
            previous = read_looks(wh, source)
    except Exception as exc:  # noqa: BLE001 - a busy or broken warehouse: say so in one line
        raise PickupError(f"SFTP looks cannot be read from the warehouse: {_one_line(exc)}") from exc
    result = pull_statements(settings.sftp, landing, previous, second_look_after=second_look_after,
                             deadline=deadline)
    try:
        with open_warehouse(settings) as wh:
            write_looks(wh, source, result.next_looks)
    except Exception as exc:  # noqa: BLE001
        result.errors.append(f"the new looks could not be stored ({_one_line(exc)}); "
                             "the next pull looks again")
    return result


# ----- Kafka ----------------------------------------------------------------------------------
def plan_kafka(settings: Settings) -> SnapshotPlan:
    """The ranges to land next, from the offsets ledger: what a sensor hands to its run.

    Raises ``KafkaUnavailable`` / ``KafkaSnapshotError`` from the broker, ``PickupError``
    when the ledger cannot be read.
    """
    assert settings.kafka is not None
    try:
        ends = read_ledger_ends(settings)
    except Exception as exc:  # noqa: BLE001 - e.g. a run holds the DuckDB file
        raise PickupError(f"the Kafka offsets ledger cannot be read: {_one_line(exc)}") from exc
    return plan_snapshot(settings.kafka, ends)


def pick_up_kafka(settings: Settings) -> SnapshotResult:
    """Plan from the ledger and land, record and commit the plan in this process."""
    return snapshot_topics(settings)


# ----- everything, once: `recon run` ----------------------------------------------------------
def pick_up(settings: Settings) -> PickupReport:
    """Land whatever is new at every configured source, each scanned once.

    Raises ``PickupError`` (one line) when SFTP or Kafka cannot be reached at all.
    """
    report = PickupReport()
    landing = LandingZone(settings.landing_dir)
    for kind, scan in pick_up_inbox(settings, landing):
        if kind == "statements":
            report.statement_files_new += len(scan.landed)
        else:
            report.event_files_new += len(scan.landed)
        report.notes += [f"inbox: refused {kind}/{name}: {reason}" for name, reason in scan.refused]
    if settings.sftp is not None:
        try:
            pulled = pick_up_sftp(settings, landing, second_look_after=SECOND_LOOK_SECONDS)
        except SftpSourceError as exc:
            raise PickupError(str(exc)) from None
        report.statement_files_new += len(pulled.landed)
        report.notes += [f"SFTP: {e}" for e in pulled.errors]
        if pulled.skipped_unstable:
            report.notes.append(f"SFTP: {len(pulled.skipped_unstable)} file(s) still being written, "
                                "left for the next run")
    if settings.kafka is not None:
        try:
            snap = pick_up_kafka(settings)
        except (KafkaUnavailable, KafkaSnapshotError) as exc:
            raise PickupError(str(exc)) from None
        report.kafka_messages += snap.messages
    return report
