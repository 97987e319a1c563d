"""Workload processes (`gp4u.agent.workload`) tracked in folders under one root: one folder per
workload, named by its id, with `instance.json` (id, pid, created_at and the caller's extras),
the `running` marker the process writes once it is up (booting until then) and the `exit_code`
file it writes when it exits. The `local` provider keeps its instances here and the host agent
its runs; the records survive restarts of either, because the processes run in their own
sessions and are found again through `/proc`."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from contextlib import suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from gp4u.agent.workload import EXIT_CODE_FILE, RUNNING_FILE

RECORD_FILE = "instance.json"
# Ids are folder names and must be found in the process's command line: 12 lowercase hex chars.
ID_PATTERN = re.compile(r"[0-9a-f]{12}")
# Never the caller's own environment: a server's holds credentials and database URLs.
PASSED_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR")
TERMINATE_GRACE_SECONDS = 5.0
WorkloadState = Literal["booting", "running", "exited"]


class WorkloadStore:
    """Start, observe and stop workload processes kept under `root`."""

    def __init__(self, root: Path) -> None:
        self.root = root
        # The processes this object started, reaped as soon as they are seen to have exited.
        self._children: dict[str, subprocess.Popen[bytes]] = {}

    def folder(self, instance_id: str) -> Path:
        if not ID_PATTERN.fullmatch(instance_id):
            raise ValueError(f"not a workload id: {instance_id!r}")
        return self.root / instance_id

    async def start(
        self,
        instance_id: str,
        command: str | None,
        env: Mapping[str, str],
        extras: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Spawn the workload in its own session with PASSED_ENV plus `env` as its whole
        environment, write its record and return it once the child has exec'd (or after 2 s)."""
        extras = dict(extras or {})
        if {"id", "pid", "created_at"} & extras.keys():
            raise ValueError("extras must not set id, pid or created_at")
        folder = self.folder(instance_id)
        folder.mkdir(parents=True, exist_ok=True)
        for stale in (RUNNING_FILE, EXIT_CODE_FILE):  # from a start that never got recorded
            (folder / stale).unlink(missing_ok=True)
        argv = [sys.executable, "-m", "gp4u.agent.workload", "--instance-dir", str(folder)]
        if command:
            argv += ["--command", command]
        passed = {k: os.environ[k] for k in PASSED_ENV if k in os.environ}
        process = subprocess.Popen(  # noqa: ASYNC220 - returns at once, never waits
            argv,
            env=passed | dict(env),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        self._children[instance_id] = process
        record = {
            "id": instance_id,
            "pid": process.pid,
            **extras,
            "created_at": datetime.now(UTC).isoformat(),
        }
        tmp = folder / f".{RECORD_FILE}.{os.getpid()}.tmp"
        tmp.write_text(json.dumps(record))
        tmp.replace(folder / RECORD_FILE)
        for _ in range(100):  # until the child has exec'd (before that /proc shows our cmdline)
            if self.alive(record) or process.poll() is not None:
                break
            await asyncio.sleep(0.02)
        return record

    def records(self) -> list[dict[str, Any]]:
        """Every readable record, by id."""
        if not self.root.is_dir():
            return []
        records = []
        for path in sorted(self.root.glob(f"*/{RECORD_FILE}")):
            try:
                record = json.loads(path.read_bytes())
            except (OSError, ValueError):
                continue
            if (
                isinstance(record, dict)
                and record.get("id") == path.parent.name
                and ID_PATTERN.fullmatch(path.parent.name)
                and isinstance(record.get("pid"), int)
            ):
                records.append(record)
        return records

    def record(self, instance_id: str) -> dict[str, Any] | None:
        return next((r for r in self.records() if r["id"] == instance_id), None)

    def alive(self, record: Mapping[str, Any]) -> bool:
        """Whether the record's process still runs: its pid shows a command line with the id
        (a reused pid runs something else) and is not a zombie (a zombie has exited)."""
        child = self._children.get(record["id"])
        if child is not None and child.pid == record["pid"] and child.poll() is not None:
            del self._children[record["id"]]  # reaped: no zombie is left behind
            return False
        pid = int(record["pid"])
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return False
        return str(record["id"]).encode() in cmdline and stat.split(")")[-1].split()[0] != "Z"

    def state(self, record: Mapping[str, Any]) -> WorkloadState:
        if not self.alive(record):
            return "exited"
        return "running" if (self.root / record["id"] / RUNNING_FILE).exists() else "booting"

    def exit_code(self, record: Mapping[str, Any]) -> int | None:
        """The code the process wrote when it exited; None while it runs, or when it was
        killed before it could write one."""
        try:
            return int((self.root / record["id"] / EXIT_CODE_FILE).read_text().strip())
        except (OSError, ValueError):
            return None

    async def terminate(self, instance_id: str) -> None:
        """SIGTERM the workload's process group, SIGKILL it after 5 s (and wait up to 1 s more
        for it to go). Already gone (or unknown) is success."""
        record = self.record(instance_id)
        if record is None or not self.alive(record):
            return
        pid = int(record["pid"])
        for sig, grace in ((signal.SIGTERM, TERMINATE_GRACE_SECONDS), (signal.SIGKILL, 1.0)):
            with suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, sig)
            deadline = time.monotonic() + grace
            while self.alive(record) and time.monotonic() < deadline:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
            if not self.alive(record):
                return

    def remove(self, instance_id: str) -> None:
        """Delete the workload's folder (its process should be gone)."""
        self._children.pop(instance_id, None)
        shutil.rmtree(self.folder(instance_id), ignore_errors=True)
