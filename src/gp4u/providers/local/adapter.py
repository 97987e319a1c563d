"""Launches local instances as workload processes (`gp4u.agent.workload`, through
`gp4u.agent.workloads.WorkloadStore`) and tracks them in `<data_dir>/local-instances`: one folder
per instance with `instance.json` (id, pid, tags, client token) and a `running` marker written by
the process itself once it is up (booting until then).

Offers: the GPUs detected on this machine, free of charge (`local-machine`). When
`<data_dir>/local-offers.json` exists, its priced "slots" are offered instead, so that features
spanning several machines (cluster runs, failover, price ranking) can be demonstrated or tested
on one box. The file is a JSON list of objects: `ref` (1-64 of `[A-Za-z0-9_.-]`, the offer ref),
`gpu`, `gpu_count` (default 1), `gpu_memory_gb` (optional), `price_per_hour` (USD), `region`
(default "local") and `available_count` (optional). It is read afresh on every call; a malformed
entry is skipped and counted in the `ParseReport`. Every slot launches the same kind of local
workload process; the slot only shapes the offer."""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from collections.abc import Sequence
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from gp4u.agent.facts import detect_gpus
from gp4u.agent.workloads import WorkloadState, WorkloadStore
from gp4u.kit.money import usd_to_micros
from gp4u.providers.base import InvalidResponse, ParseReport, ProviderOffer, ProviderRejected
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
SLOTS_FILE = "local-offers.json"
_STATES: dict[WorkloadState, tuple[InstanceState, str]] = {
    "booting": (InstanceState.BOOTING, "starting"),
    "running": (InstanceState.RUNNING, "running"),
    "exited": (InstanceState.TERMINATED, "exited"),
}


class Slot(BaseModel):
    """One entry of the slots file."""

    model_config = ConfigDict(strict=True, frozen=True, allow_inf_nan=False)

    ref: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    gpu: str = Field(min_length=1)
    gpu_count: int = Field(default=1, ge=1)
    gpu_memory_gb: float | None = Field(default=None, gt=0)
    price_per_hour: float = Field(ge=0)
    region: str = Field(default="local", min_length=1)
    available_count: int | None = Field(default=None, ge=0)


def read_slots(path: Path, name: str, provider: str) -> ParseReport | None:
    """The offers of a slots file for market provider `provider`, or None when there is no such
    file; errors name the adapter `name`. Blocking: run it in a thread. Entries are skipped as
    `not_an_object`, `missing_<field>`, `bad_<field>` or `duplicate_ref`."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidResponse(name, f"cannot read {path}: {exc}") from exc
    try:
        entries = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidResponse(name, f"{path} is not valid JSON: {exc}") from exc
    if not isinstance(entries, list):
        raise InvalidResponse(name, f"{path} must hold a JSON list, not {type(entries).__name__}")
    report = ParseReport()
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        report.rows_read += 1
        if not isinstance(entry, dict):
            report.skip("not_an_object", index)
            continue
        try:
            slot = Slot.model_validate(entry)
            price = usd_to_micros(slot.price_per_hour)
        except ValidationError as exc:
            report.skip(_reason(exc), index)
            continue
        except ValueError:  # a price too large for micro-USD
            report.skip("bad_price_per_hour", index)
            continue
        if slot.ref in seen:
            report.skip("duplicate_ref", index)
            continue
        seen.add(slot.ref)
        report.offers.append(
            ProviderOffer(
                provider=provider,
                instance_type=f"local-{slot.ref}",
                gpu_name=slot.gpu,
                gpu_count=slot.gpu_count,
                price_per_hour=price,
                region=slot.region,
                gpu_memory_gb=slot.gpu_memory_gb,
                vcpus=float(os.cpu_count() or 1),
                available=slot.available_count != 0,
                reliability=1.0,
                offer_ref=slot.ref,
                available_count=slot.available_count,
            )
        )
    return report


def _reason(exc: ValidationError) -> str:
    error = exc.errors()[0]
    field = str(error["loc"][0]) if error["loc"] else "entry"
    return f"missing_{field}" if error["type"] == "missing" else f"bad_{field}"


class LocalAdapter(ProviderAdapter):
    kind = "local"
    agent_in_workload = True
    source = "local"
    live = True

    @property
    def data_dir(self) -> Path:
        return Path(self.config.options.get("data_dir", "./var"))

    @property
    def root(self) -> Path:
        return self.data_dir / "local-instances"

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
        slots = await self._slots()
        if slots is not None:
            return slots
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
        slots = await self._slots()
        refs = {OFFER_REF} if slots is None else {o.offer_ref for o in slots.offers}
        # `host-<id>`: a host machine on this server's own host (GP4U_HOST_SESSIONS_PROVIDER).
        if request.offer_ref not in refs and machine_of(request.offer_ref) is None:
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

    async def _slots(self) -> ParseReport | None:
        return await asyncio.to_thread(
            read_slots, self.data_dir / SLOTS_FILE, self.name, self.provider
        )

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
