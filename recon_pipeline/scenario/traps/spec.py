"""What the day loop needs to know about a trap besides how to build it."""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from recon_pipeline.scenario.builder import Builder


@dataclass(frozen=True)
class KindSpec:
    """One scenario kind: its builder and where in a scenario it may be planted.

    ``span`` keeps a kind off days too close to the end for everything it books (so no expected
    verdict depends on data the scenario does not contain); ``ages`` asks the planner for one
    instance still in flight and one past the settlement window.
    """

    name: str
    build: Callable[[Builder, dt.date], int]    # returns the number of payments it created
    weight: float                                 # default share of the mix
    span: int = 0                                 # days after the pay day it books into
    ages: bool = False                            # leaves items open: show young and old ones
