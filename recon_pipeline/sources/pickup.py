"""Pick up new input from every configured source: one path for the sensors and ``recon run``."""
from __future__ import annotations

import json
from dataclasses import dataclass, field

from recon_pipeline.events.kafka.client import KafkaUnavailable
from recon_pipeline.landing import LandingZone
from recon_pipeline.settings import Settings
from recon_pipeline.sources.kafka import snapshot_topics
from recon_pipeline.sources.local_inbox import scan_inbox
from recon_pipeline.sources.sftp.errors import SftpSourceError
from recon_pipeline.sources.sftp.pull import pull_statements


class PickupError(RuntimeError):
    """A source could not be picked up at all; the message is one line."""


@dataclass
class PickupReport:
    statement_files_new: int = 0
    event_files_new: int = 0
    kafka_messages: int = 0
    notes: list[str] = field(default_factory=list)


def pick_up(settings: Settings) -> PickupReport:
    """Land whatever is new at the configured sources (the sensors' code paths)."""
    report = PickupReport()
    landing = LandingZone(settings.landing_dir)
    for folder, kind in ((settings.statements_dir, "statements"),
                         *((folder, "events") for folder in settings.events_dirs)):
        scan = scan_inbox(folder, landing, kind)
        if kind == "statements":
            report.statement_files_new += len(scan.landed)
        else:
            report.event_files_new += len(scan.landed)
        report.notes += [f"inbox: refused {kind}/{name}: {reason}" for name, reason in scan.refused]
    if settings.sftp is not None:
        looks_path = settings.landing_dir / ".sftp_looks.json"
        try:
            previous = json.loads(looks_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            previous = {}
        try:
            result = pull_statements(settings.sftp, landing, previous, second_look_after=3.0)
        except SftpSourceError as exc:
            raise PickupError(str(exc)) from None
        looks_path.parent.mkdir(parents=True, exist_ok=True)
        looks_path.write_text(json.dumps(result.next_looks, sort_keys=True), encoding="utf-8")
        report.statement_files_new += len(result.landed)
        report.notes += [f"SFTP: {e}" for e in result.errors]
        if result.skipped_unstable:
            report.notes.append(f"SFTP: {len(result.skipped_unstable)} file(s) still being written, "
                                "left for the next run")
    if settings.kafka is not None:
        try:
            snap = snapshot_topics(settings)
        except KafkaUnavailable as exc:
            raise PickupError(str(exc)) from None
        report.kafka_messages += snap.messages
    return report
