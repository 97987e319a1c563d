"""Fixtures for driving the web UI in a real browser: a real `gp4u serve` (embedded SQLite in a
temporary directory, accounts mode, no network: the simulated market) and Debian's Chromium
through Playwright. The browser tests skip, saying why, only when Chromium, the UI build or
axe-core is missing; `make test` builds the UI and `.ci/run` installs Chromium, so in CI they run."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from gp4u.web.spa import DEFAULT_DIST

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
AXE = ROOT / "web" / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "var" / "screenshots"
GP4U = str(Path(sys.executable).parent / "gp4u")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


def missing_for_browser_tests() -> str | None:
    """Why the browser tests cannot run here, or None."""
    missing = [
        what
        for what, path in (
            ("Chromium (/usr/bin/chromium: apt-get install chromium)", CHROMIUM),
            ("the web UI build (web/dist: make web)", DEFAULT_DIST / "index.html"),
            ("axe-core (web/node_modules: make web)", AXE),
        )
        if not path.exists()
    ]
    return "missing " + " and ".join(missing) if missing else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    url: str
    api: httpx.Client


@pytest.fixture(scope="module")
def ui_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`gp4u serve` in accounts mode on an empty data directory with no network."""
    data_dir = tmp_path_factory.mktemp("ui-server")
    env = {k: v for k, v in os.environ.items() if not k.startswith("GP4U_")}
    env.update(
        GP4U_DATA_DIR=str(data_dir),
        GP4U_AUTH="accounts",
        GP4U_CATALOG_URL="http://127.0.0.1:9",  # closed: no catalogs, the simulated market stays
        GP4U_CATALOG_PROVIDERS="lambda",
        GP4U_PROVIDERS="local",
        GP4U_SIMULATED_TICK_SECONDS="86400",  # the market holds still while the tests look
        GP4U_LOG_LEVEL="WARNING",
    )
    port = _free_port()
    log = (data_dir / "server.log").open("w")
    process = subprocess.Popen(
        [GP4U, "serve", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=url, timeout=10) as api:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if api.get("/readyz").status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(
                        "gp4u serve did not become ready:\n" + (data_dir / "server.log").read_text()
                    )
                time.sleep(0.2)
            yield Server(url, api)
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium, headless, driven by Playwright (never a downloaded browser)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()


def screenshot(page: Any, name: str) -> None:
    """A full-page screenshot for review, under var/screenshots (git-ignored)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """Serious and critical axe-core violations on the page as it is now."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        """async () => {
            const r = await axe.run(document, { resultTypes: ["violations"] });
            return r.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 5).map(n => n.target.join(" ") + ": " + n.failureSummary),
            }));
        }"""
    )
    return [v for v in result if v["impact"] in ("serious", "critical")]
