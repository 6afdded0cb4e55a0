"""Portal fixtures: one generated week built by `recon run`, and `recon serve` on a free port.

The week is built once for the whole tests/portal package (building costs minutes on this
machine; the rebuild test rebuilds a cycle from the same inputs, which gives the same marts).
The server runs as a user runs it, in a subprocess, with users from a recon.yaml whose hash
comes from `recon hash-password`. The browser is Debian's Chromium (Playwright's own download
is blocked here); without it the browser tests fail and say how to get it.
"""
from __future__ import annotations

import datetime as dt
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from recon_pipeline.scenario.generator import generate_scenario
from tests.e2e.conftest import RECON, START, ReconHome, deliver, make_home

USER, PASSWORD = "finance", "correct horse battery staple"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
DAYS = 3


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Portal:
    home: ReconHome
    url: str
    cycles: list[str]
    process: subprocess.Popen
    log: Path

    def get(self, path: str, auth=(USER, PASSWORD), **kwargs) -> httpx.Response:
        return httpx.get(self.url + path, auth=auth, timeout=30, **kwargs)

    def snapshot(self):
        """The published portal tables, read-only (what the portal itself reads)."""
        from recon_pipeline.portal.reader import PortalReader

        return PortalReader(self.home.settings()).open()


@pytest.fixture(scope="package")
def portal(tmp_path_factory) -> Portal:
    tmp = tmp_path_factory.mktemp("portal")
    scenario = generate_scenario(tmp / "scenario", start=START, days=DAYS, payments_per_day=14, seed=11)
    home = make_home(tmp)
    hashed = subprocess.run([RECON, "hash-password"], input=PASSWORD + "\n", capture_output=True, text=True,
                            env=home.env, check=True).stdout.strip()
    config = tmp / "recon.yaml"
    config.write_text(f"portal:\n  users:\n    {USER}: '{hashed}'\n", encoding="utf-8")
    home.env["RECON_CONFIG"] = str(config)
    deliver(tmp / "scenario", home)
    home.run("run", "--through", scenario.cycles[-1].isoformat())

    url = f"http://127.0.0.1:{free_port()}"
    log = open(tmp / "serve.log", "w")
    proc = subprocess.Popen([RECON, "serve", "--port", url.rsplit(":", 1)[1]], env=home.env,
                            stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(url + "/", timeout=2).status_code == 401:
                break
        except httpx.TransportError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(f"recon serve did not come up:\n{(tmp / 'serve.log').read_text()[-3000:]}")
        time.sleep(0.3)
    try:
        yield Portal(home, url, [c.isoformat() for c in scenario.cycles], proc, tmp / "serve.log")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="package")
def chromium():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: the browser tests need Debian's chromium "
                    f"(`make services` runs scripts/ensure_chromium.sh, which installs it with apt-get)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def screenshots(tmp_path) -> Path:
    """Where page screenshots go: $RECON_SCREENSHOTS_DIR when set (to look at them), else tmp."""
    import os

    folder = Path(os.environ.get("RECON_SCREENSHOTS_DIR") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def as_date(text: str) -> dt.date:
    return dt.date.fromisoformat(text)
