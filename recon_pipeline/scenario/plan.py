"""The day loop: which traps go on which day, and how many of each.

A scenario is only useful as a test if every trap it was asked for actually appears, young
and old where age matters, and if no trap is placed where what it books would fall past the
scenario's last day. The planner guarantees both, then fills each day to its volume by
weighted draw.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from recon_pipeline.scenario.builder import Builder
from recon_pipeline.scenario.config import SETTLEMENT_WINDOW_DAYS
from recon_pipeline.scenario.traps import DEFAULT_KIND_WEIGHTS, KINDS, TRAPS


def check_weights(kinds: Mapping[str, float] | None) -> dict[str, float]:
    """The kind weights asked for, validated before anything is generated (default: the mix)."""
    if kinds is None:
        return dict(DEFAULT_KIND_WEIGHTS)
    unknown = sorted(set(kinds) - set(KINDS))
    if unknown:
        raise ValueError(f"unknown scenario kind(s) {', '.join(unknown)}; known: {', '.join(KINDS)}")
    weights = {name: float(kinds[name]) for name in KINDS if name in kinds}
    if any(w < 0 for w in weights.values()):
        raise ValueError("kind weights must not be negative")
    if not any(w > 0 for w in weights.values()):
        raise ValueError("at least one kind needs a positive weight")
    return weights


def plan(b: Builder, weights: Mapping[str, float], payments_per_day: int) -> None:
    """Place one of every wanted kind first (so a default week shows them all; kinds that
    leave items open once in flight and once past the window), then fill
    each day up to its volume by weighted draw. A kind only goes on days that leave room
    for everything it books (``span``)."""
    wanted = [name for name in KINDS if weights.get(name, 0) > 0]

    def fits(name: str, day: dt.date) -> bool:
        return b.days_left(day) >= TRAPS[name].span

    guaranteed: dict[dt.date, list[str]] = {day: [] for day in b.cycles}
    for name in wanted:
        options = [day for day in b.cycles if fits(name, day)]
        if TRAPS[name].ages:
            # One still in flight and one past the window, when the period allows both.
            old = [day for day in options if b.days_left(day) >= SETTLEMENT_WINDOW_DAYS]
            young = [day for day in options if b.days_left(day) < SETTLEMENT_WINDOW_DAYS]
            choices = [group for group in (old, young) if group]
        else:
            choices = [options] if options else []
        for group in choices:
            guaranteed[b.rng.choice(group)].append(name)
    for day in b.cycles:
        count = sum(TRAPS[name].build(b, day) for name in guaranteed[day])
        options = [name for name in wanted if fits(name, day)]
        while options and count < payments_per_day:
            name = b.rng.choices(options, weights=[weights[n] for n in options])[0]
            count += max(1, TRAPS[name].build(b, day))
