"""Running `gp4u` as users do: the installed command in a subprocess, an embedded data
directory, and `gp4u serve` processes (local mode and accounts mode) to reach with --api."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

GP4U = [str(Path(sys.executable).parent / "gp4u")]


def run(
    args: list[str], env: dict[str, str], ok: bool = True, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [*GP4U, *args], env=env, input=stdin, capture_output=True, text=True, timeout=180
    )
    if ok:
        assert result.returncode == 0, result.stderr
    return result


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(env: dict[str, str]) -> Iterator[str]:
    """`gp4u serve` with this environment on a free port, until the block ends: its URL."""
    port = free_port()
    process = subprocess.Popen(
        [*GP4U, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            raise AssertionError("server did not become ready")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def offline(env: dict[str, str], data_dir: Path) -> dict[str, str]:
    """A server environment with no network: the catalog host is closed."""
    return {
        **env,
        "GP4U_DATA_DIR": str(data_dir),
        "GP4U_CATALOG_URL": "http://127.0.0.1:9",
        "GP4U_CATALOG_PROVIDERS": "lambda,aws",
        "GP4U_PROVIDERS": "local",
    }


@pytest.fixture
def embedded(tmp_path: Path, env_without_gp4u: dict[str, str]) -> dict[str, str]:
    return {**env_without_gp4u, "GP4U_DATA_DIR": str(tmp_path / "var"), "GP4U_CATALOG_URL": ""}


@pytest.fixture
def live_server(tmp_path: Path, env_without_gp4u: dict[str, str]) -> Iterator[str]:
    """`gp4u serve` in local mode on an empty data directory with no network."""
    with serving(offline(env_without_gp4u, tmp_path / "served")) as url:
        yield url
