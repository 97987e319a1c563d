"""Fixtures for driving the web UI in a real browser: a real `gp4u serve` (embedded SQLite in a
temporary directory, accounts mode, no network: the simulated market) and Debian's Chromium
through Playwright. The browser tests skip, saying why, only when Chromium, the UI build or
axe-core is missing; `make test` builds the UI and `.ci/run` installs Chromium, so in CI they run."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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
# GP4U_WEB_DIST points the tests (and the server they start) at another build than web/dist.
DIST = Path(os.environ.get("GP4U_WEB_DIST") or DEFAULT_DIST)
PASSWORD = "correct horse battery staple"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


def missing_for_browser_tests() -> str | None:
    """Why the browser tests cannot run here, or None."""
    missing = [
        what
        for what, path in (
            ("Chromium (/usr/bin/chromium: apt-get install chromium)", CHROMIUM),
            ("the web UI build (web/dist: make web)", DIST / "index.html"),
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
    data_dir: Path
    env: dict[str, str]

    def cli(self, *args: str) -> str:
        """Run `gp4u ARGS` on this server's database (operator commands such as `user grant`)."""
        done = subprocess.run(
            [GP4U, *args], env=self.env, capture_output=True, text=True, timeout=120, check=False
        )
        assert done.returncode == 0, f"gp4u {' '.join(args)}: {done.stdout}{done.stderr}"
        return done.stdout


@dataclass
class Account:
    """A user signed up through the API, with a fresh login and an API client acting as them."""

    email: str
    tokens: dict[str, Any]
    api: httpx.Client


def sign_up(server: Server, email: str, *roles: str) -> Account:
    """Sign `email` up (password PASSWORD), grant it `roles` and log it in."""
    response = server.api.post("/api/v1/auth/signup", json={"email": email, "password": PASSWORD})
    assert response.status_code == 201, response.text
    for role in roles:
        server.cli("user", "grant", email, role)
    login = server.api.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert login.status_code == 200, login.text
    tokens = login.json()
    client = httpx.Client(
        base_url=server.url,
        timeout=30,
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
    )
    return Account(email, tokens, client)


# The UI keeps its login in localStorage["gp4u.login"] (web/src/api/login.ts).
STORE_LOGIN_JS = """tokens => localStorage.setItem("gp4u.login", JSON.stringify({
    accessToken: tokens.access_token,
    accessExpiresAt: Date.now() + tokens.expires_in * 1000,
    refreshToken: tokens.refresh_token,
    refreshExpiresAt: Date.now() + tokens.refresh_expires_in * 1000,
}))"""


def logged_in_page(
    browser: Any,
    server: Server,
    account: Account,
    viewport: dict[str, int] | None = None,
    theme: str = "light",
) -> Any:
    """A new page already logged in as `account` (close it with page.context.close())."""
    context = browser.new_context(
        viewport=viewport or DESKTOP, base_url=server.url, color_scheme=theme
    )
    page = context.new_page()
    page.goto("/login")
    page.evaluate(STORE_LOGIN_JS, account.tokens)
    return page


def until(check: Callable[[], Any], what: str, seconds: float = 20) -> Any:
    """Poll `check` until it returns something truthy (bounded: not a timing claim)."""
    deadline = time.monotonic() + seconds
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def assert_accessible(page: Any, what: str) -> None:
    """No serious or critical axe-core violations on the page as it is now."""
    violations = axe_violations(page)
    assert violations == [], f"{what}: {violations}"


@contextmanager
def serve(
    data_dir: Path, local_offers: list[dict[str, Any]] | None = None, **settings: str
) -> Iterator[Server]:
    """`gp4u serve` in accounts mode on `data_dir` with no network (the simulated market and the
    `local` provider, whose slots are `local_offers`), with any further GP4U_ `settings`."""
    if local_offers is not None:
        (data_dir / "local-offers.json").write_text(json.dumps(local_offers))
    env = {k: v for k, v in os.environ.items() if not k.startswith("GP4U_")}
    env.update(
        GP4U_DATA_DIR=str(data_dir),
        GP4U_AUTH="accounts",
        GP4U_CATALOG_URL="http://127.0.0.1:9",  # closed: no catalogs, the simulated market stays
        GP4U_CATALOG_PROVIDERS="lambda",
        GP4U_PROVIDERS="local",
        GP4U_SIMULATED_TICK_SECONDS="86400",  # the market holds still while the tests look
        GP4U_LOG_LEVEL="WARNING",
        GP4U_ACCESS_TOKEN_MINUTES="60",  # Account.api keeps one token for the module's run
    )
    if os.environ.get("GP4U_WEB_DIST"):  # a build elsewhere
        env["GP4U_WEB_DIST"] = os.environ["GP4U_WEB_DIST"]
    env.update({f"GP4U_{name.upper()}": value for name, value in settings.items()})
    port = _free_port()
    log = (data_dir / "server.log").open("w")
    process = subprocess.Popen(
        [GP4U, "serve", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=url, timeout=30) as api:
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
            yield Server(url, api, data_dir, env)
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:  # a browser's open event stream can hold it up
            process.kill()
            process.wait(timeout=30)
        log.close()


@pytest.fixture(scope="module")
def ui_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`gp4u serve` in accounts mode on an empty data directory with no network."""
    with serve(tmp_path_factory.mktemp("ui-server")) as server:
        yield server


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
