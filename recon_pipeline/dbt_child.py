"""``recon-dbt``: dbt, tied to the process that started it.

Why: dagster-dbt starts ``dbt`` as a plain subprocess. When the run is killed (SIGKILL, OOM
killer, a container stop), dbt is re-parented and goes on writing to the warehouse for as
long as its models take, racing the next run. This wrapper is the executable the Dagster
dbt resource starts instead: it runs the real dbt as its own child, passes signals on, and
stops dbt (SIGTERM, then SIGKILL) as soon as its own parent is gone. It imports nothing but
the standard library, so it costs no start-up time.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

POLL_SECONDS = 0.5
GRACE_SECONDS = 5.0


def real_dbt() -> str:
    """The ``dbt`` installed next to this script (same venv), else the one on PATH."""
    sibling = Path(sys.argv[0]).resolve().with_name("dbt")
    if sibling.exists():
        return str(sibling)
    for candidate in (Path(sys.prefix) / "bin" / "dbt", Path(sys.executable).with_name("dbt")):
        if candidate.exists():
            return str(candidate)
    return shutil.which("dbt") or "dbt"


def _stop(child: subprocess.Popen) -> None:
    if child.poll() is not None:
        return
    child.terminate()
    try:
        child.wait(GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()


def main() -> int:
    parent = os.getppid()
    child = subprocess.Popen([real_dbt(), *sys.argv[1:]])

    def forward(signum: int, _frame) -> None:
        if child.poll() is None:
            child.send_signal(signum)

    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, forward)
    while True:
        try:
            return child.wait(POLL_SECONDS)
        except subprocess.TimeoutExpired:
            if os.getppid() != parent:          # the run that started us is gone
                _stop(child)
                return 1


if __name__ == "__main__":
    sys.exit(main())
