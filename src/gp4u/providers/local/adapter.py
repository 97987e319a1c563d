"""Launches local instances as workload processes (`gp4u.agent.workload`, through
`gp4u.agent.workloads.WorkloadStore`) and tracks them in `<data_dir>/local-instances`: one folder
per instance with `instance.json` (id, pid, tags, client token) and a `running` marker written by
the process itself once it is up (booting until then)."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Sequence
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Any

from gp4u.agent.facts import detect_gpus
from gp4u.agent.workloads import WorkloadState, WorkloadStore
from gp4u.providers.base import ParseReport, ProviderOffer, ProviderRejected
from gp4u.providers.hosts.port import machine_of
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
_STATES: dict[WorkloadState, tuple[InstanceState, str]] = {
    "booting": (InstanceState.BOOTING, "starting"),
    "running": (InstanceState.RUNNING, "running"),
    "exited": (InstanceState.TERMINATED, "exited"),
}


class LocalAdapter(ProviderAdapter):
    kind = "local"
    agent_in_workload = True
    source = "local"
    live = True

    @property
    def root(self) -> Path:
        return Path(self.config.options.get("data_dir", "./var")) / "local-instances"

    @cached_property
    def workloads(self) -> WorkloadStore:
        return WorkloadStore(self.root)

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
        # `host-<id>`: a host machine on this server's own host (GP4U_HOST_SESSIONS_PROVIDER).
        if request.offer_ref != OFFER_REF and machine_of(request.offer_ref) is None:
            raise ProviderRejected(self.name, f"unknown offer {request.offer_ref!r}", 404)
        for record in self.workloads.records():
            if record.get("client_token") == request.client_token and self.workloads.alive(record):
                return self._instance(record)
        record = await self.workloads.start(
            uuid.uuid4().hex[:12],
            request.startup_command,
            request.env,
            {
                "label": request.tags.label,
                "owner": request.tags.owner,
                "client_token": request.client_token,
            },
        )
        return self._instance(record)

    async def status(self, instance_ids: Sequence[str]) -> list[Instance]:
        records = {r["id"]: r for r in self.workloads.records()}
        return [
            self._instance(records[i])
            if i in records
            else Instance(self.name, i, InstanceState.TERMINATED, "unknown")
            for i in instance_ids
        ]

    async def list_tagged(self, deployment: str) -> list[Instance]:
        found = []
        for record in self.workloads.records():
            tags = Tags.parse(record.get("label"))
            if tags and tags.deployment == deployment and self.workloads.alive(record):
                found.append(self._instance(record))
        return found

    async def terminate(self, instance_id: str) -> None:
        await self.workloads.terminate(instance_id)

    def _instance(self, record: dict[str, Any]) -> Instance:
        state, word = _STATES[self.workloads.state(record)]
        tags = Tags.parse(record.get("label"), record.get("owner"))
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
