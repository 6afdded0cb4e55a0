"""What a recorded decision asks of the built pay cycles, said without running anything.

A decision (a resolution, a manual match, an item's release) is appended to the operators' log
by the domain; which cycles it changes, and whether only its cycle's exception slice moves,
is decided here. Running the rebuilds is the orchestration's (orchestration/apply.py), so the
domain names the work and never starts a Dagster run itself.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

# Where the slice starts, and the model through which a decision reaches matching (its
# filter is effective_cycle < the cycle, so in the decision's own cycle nothing changes there).
SLICE_SOURCE = "source.recon.ops.exception_resolutions"
MATCHING_ENTRY = "model.recon.int_closed_items"


@dataclass(frozen=True)
class RebuildRequest:
    """Bring the built cycles from ``first_cycle`` on up to date with a decision.

    ``only_exceptions``: the decision changes only its cycle's exception slice (a resolution),
    not matching (a manual match). ``include_first``: rebuild ``first_cycle`` even if it was
    never built (a release ends the hold of a cycle that was blocked). ``trigger`` and
    ``details`` say why, for the runs' tags.
    """

    first_cycle: dt.date
    trigger: str
    details: dict[str, str] = field(default_factory=dict)
    only_exceptions: bool = False
    include_first: bool = False


@dataclass(frozen=True)
class Recorded:
    """A decision written to the log: the line the operator reads, and the rebuild it asks for."""

    message: str
    rebuild: RebuildRequest


def cycles_to_rebuild(request: RebuildRequest, built: list[dt.date]) -> list[dt.date]:
    """The built cycles the request reaches, in order."""
    reached = {c for c in built if c >= request.first_cycle}
    if request.include_first:
        reached.add(request.first_cycle)
    return sorted(reached)


def slice_models(manifest: dict) -> list[str]:
    """dbt models whose rows in the decision's own cycle can change: everything downstream of
    the resolution log except through the path into matching."""
    children = manifest["child_map"]
    found: set[str] = set()
    todo = list(children.get(SLICE_SOURCE, []))
    while todo:
        node = todo.pop()
        if node in found or node == MATCHING_ENTRY or not node.startswith("model."):
            continue
        found.add(node)
        todo += children.get(node, [])
    return sorted(manifest["nodes"][n]["name"] for n in found)
