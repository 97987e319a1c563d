"""Launches local instances as child processes and tracks them in `<data_dir>/local-instances`:
one folder per instance with `instance.json` (id, pid, tags, client token) and a `running` marker
written by the process itself once it is up (booting until then)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Sequence
from contextlib import suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from gp4u.agent.facts import detect_gpus
from gp4u.providers.base import ParseReport, ProviderOffer, ProviderRejected
from gp4u.providers.interface import (
    Capabilities,
    Capability,
    CredentialCheck,
    Instance,
    InstanceState,
    LaunchRequest,
    ProviderAdapter,
    Tags,
)

OFFER_REF = "local-machine"
# Host machines on this server's own host: a reservation's session asks for `host-<machine id>`.
HOST_REF_PREFIX = "host-"
_PASSED_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR")


class LocalAdapter(ProviderAdapter):
    kind = "local"
    source = "local"
    live = True

    @property
    def root(self) -> Path:
        return Path(self.config.options.get("data_dir", "./var")) / "local-instances"

    def capabilities(self) -> Capabilities:
        return Capabilities.of(
            Capability.OFFERS,
            Capability.LIVE_AVAILABILITY,
            Capability.LAUNCH,
            spot="no spot market on a local machine",
            credentials="no credentials needed",
        )

    async def list_offers(self) -> ParseReport:
        name, count, memory = await asyncio.to_thread(detect_gpus)
        offer = ProviderOffer(
            provider=self.provider,
            instance_type=f"local-{count}x",
            gpu_name=name,
            gpu_count=count,
            price_per_hour=0,
            region="local",
            gpu_memory_gb=memory,
            vcpus=float(os.cpu_count() or 1),
            available=True,
            reliability=1.0,
            offer_ref=OFFER_REF,
            available_count=None,
        )
        return ParseReport(offers=[offer], rows_read=1)

    async def check_credentials(self) -> CredentialCheck:
        return CredentialCheck(True, "local processes need no credentials")

    async def launch(self, request: LaunchRequest) -> Instance:
        if request.offer_ref != OFFER_REF and not request.offer_ref.startswith(HOST_REF_PREFIX):
            raise ProviderRejected(self.name, f"unknown offer {request.offer_ref!r}", 404)
        for record in self._records():
            if record.get("client_token") == request.client_token and self._alive(record):
                return self._instance(record)
        instance_id = uuid.uuid4().hex[:12]
        folder = self.root / instance_id
        folder.mkdir(parents=True)
        command = [sys.executable, "-m", "gp4u.providers.local.instance"]
        command += ["--instance-dir", str(folder)]
        if request.startup_command:
            command += ["--command", request.startup_command]
        # Never the server's own environment: it holds credentials and database URLs.
        env = {k: os.environ[k] for k in _PASSED_ENV if k in os.environ} | dict(request.env)
        process = subprocess.Popen(  # noqa: ASYNC220 - returns at once, never waits
            command,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        record = {
            "id": instance_id,
            "pid": process.pid,
            "label": request.tags.label,
            "owner": request.tags.owner,
            "client_token": request.client_token,
            "created_at": datetime.now(UTC).isoformat(),
        }
        (folder / "instance.json").write_bytes(orjson.dumps(record))
        for _ in range(100):  # until the child has exec'd (before that /proc shows our cmdline)
            if self._alive(record) or process.poll() is not None:
                break
            await asyncio.sleep(0.02)
        return self._instance(record)

    async def status(self, instance_ids: Sequence[str]) -> list[Instance]:
        records = {r["id"]: r for r in self._records()}
        return [
            self._instance(records[i])
            if i in records
            else Instance(self.name, i, InstanceState.TERMINATED, "unknown")
            for i in instance_ids
        ]

    async def list_tagged(self, deployment: str) -> list[Instance]:
        found = []
        for record in self._records():
            tags = Tags.parse(record.get("label"))
            if tags and tags.deployment == deployment and self._alive(record):
                found.append(self._instance(record))
        return found

    async def terminate(self, instance_id: str) -> None:
        record = next((r for r in self._records() if r["id"] == instance_id), None)
        if record is None or not self._alive(record):
            return
        pid = int(record["pid"])
        with suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGTERM)
        deadline = time.monotonic() + 5
        while self._alive(record) and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        if self._alive(record):
            with suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)

    def _records(self) -> list[dict[str, Any]]:
        if not self.root.is_dir():
            return []
        records = []
        for path in sorted(self.root.glob("*/instance.json")):
            try:
                records.append(orjson.loads(path.read_bytes()))
            except (OSError, orjson.JSONDecodeError):
                continue
        return records

    def _alive(self, record: dict[str, Any]) -> bool:
        pid = int(record["pid"])
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return False
        # A reused pid runs something else; a zombie has exited.
        return record["id"].encode() in cmdline and stat.split(")")[-1].split()[0] != "Z"

    def _instance(self, record: dict[str, Any]) -> Instance:
        folder = self.root / record["id"]
        if not self._alive(record):
            state, word = InstanceState.TERMINATED, "exited"
        elif (folder / "running").exists():
            state, word = InstanceState.RUNNING, "running"
        else:
            state, word = InstanceState.BOOTING, "starting"
        tags = Tags.parse(record.get("label"))
        if tags and record.get("owner"):
            tags = Tags(tags.deployment, tags.session, record["owner"])
        return Instance(
            provider=self.name,
            instance_id=record["id"],
            state=state,
            provider_status=word,
            tags=tags,
            instance_type="local",
            region="local",
            public_ip="127.0.0.1",
            ssh_host="127.0.0.1",
            price_per_hour=0,
            created_at=datetime.fromisoformat(record["created_at"]),
        )
