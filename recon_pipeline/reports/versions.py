"""Pack versions: a rebuild that shows different data never silently replaces what finance may
already have reviewed. Beside each pack a small manifest (``close_pack_<cycle>.json``) records
its version, the SHA-256 of the data it shows and the figures a reviewer signs. A rebuild with
the same data keeps the version; one with different data (say after `recon resolve`) becomes
the next version, the previous workbook and manifest stay beside it as ``.v<N>``, and the new
sign-off sheet says what changed."""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MAX_LISTED_CHANGES = 40


@dataclass
class PackVersion:
    number: int
    previous_file: str | None = None
    changes: list[str] = field(default_factory=list)


def manifest_path(pack: Path) -> Path:
    return pack.with_suffix(".json")


def archived(pack: Path, number: int, suffix: str) -> Path:
    return pack.with_name(f"{pack.stem}.v{number}{suffix}")


def read_manifest(pack: Path) -> dict[str, Any] | None:
    path = manifest_path(pack)
    if path.is_file():
        try:
            return json.loads(path.read_text())
        except (OSError, ValueError):
            return {"version": 1, "sha256": None, "facts": {}, "exceptions": {}}
    if pack.is_file():       # a pack written before manifests existed
        return {"version": 1, "sha256": None, "facts": {}, "exceptions": {}}
    return None


def decide_version(previous: dict[str, Any] | None, sha256: str, facts: dict[str, Any],
                   exceptions: dict[str, str], pack: Path) -> PackVersion:
    if previous is None:
        return PackVersion(1)
    if previous.get("sha256") == sha256:
        return PackVersion(int(previous["version"]), previous.get("previous_file"), previous.get("changes", []))
    number = int(previous["version"])
    return PackVersion(number + 1, archived(pack, number, ".xlsx").name,
                       describe_changes(previous, facts, exceptions))


def describe_changes(previous: dict[str, Any], facts: dict[str, Any], exceptions: dict[str, str]) -> list[str]:
    """What a reviewer of the previous version needs to know, one line each."""
    lines = []
    before = previous.get("facts", {})
    for key, value in facts.items():
        if key in before and before[key] != value:
            lines.append(f"{key}: {before[key]} → {value}")
    old = previous.get("exceptions", {})
    moved = [f"{eid}: {old.get(eid, 'not listed')} → {state}" for eid, state in sorted(exceptions.items())
             if old.get(eid) != state]
    moved += [f"{eid}: {state} → not listed" for eid, state in sorted(old.items()) if eid not in exceptions]
    lines += moved[:MAX_LISTED_CHANGES]
    if len(moved) > MAX_LISTED_CHANGES:
        lines.append(f"… and {len(moved) - MAX_LISTED_CHANGES} more exception change(s)")
    if not lines:
        lines.append("the data shown changed (no headline figure or exception status changed)")
    return lines


def publish(pack: Path, part: Path, version: PackVersion, previous: dict[str, Any] | None, sha256: str,
            facts: dict[str, Any], exceptions: dict[str, str]) -> None:
    """Move the new workbook in place; keep the previous version beside it when it differs."""
    if previous is not None and version.number != int(previous["version"]) and pack.is_file():
        number = int(previous["version"])
        os.replace(pack, archived(pack, number, ".xlsx"))
        if manifest_path(pack).is_file():
            os.replace(manifest_path(pack), archived(pack, number, ".json"))
    os.replace(part, pack)
    manifest = {"version": version.number, "sha256": sha256, "previous_file": version.previous_file,
                "changes": version.changes, "facts": facts, "exceptions": exceptions}
    tmp = manifest_path(pack).with_suffix(".json.part")
    tmp.write_text(json.dumps(manifest, indent=1, sort_keys=True))
    os.replace(tmp, manifest_path(pack))
