"""Sessions on host machines: a launch asks the hosts marketplace for a run on the booked
machine (offer ref `host-<machine id>`), which the machine's own host agent starts on its next
heartbeat; status, tagged listing and terminate read and change those runs. The workload
process runs the node agent itself (like the `local` provider's), so the session turns running
when that agent checks in from the host's machine. Host machines are listed and priced by the
marketplace itself, so this adapter has no offers to sync."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from gp4u.providers.base import ParseReport, ProviderRejected
from gp4u.providers.gateway import Gateway
from gp4u.providers.hosts.port import (
    HostFleet,
    RunRefused,
    RunRequest,
    RunView,
    host_ref,
    machine_of,
)
from gp4u.providers.interface import (
    AdapterConfig,
    Capabilities,
    Capability,
    CredentialCheck,
    Instance,
    InstanceState,
    LaunchRequest,
    ProviderAdapter,
    ProviderKind,
    Tags,
)

NAME = "gp4u"
_STATES: dict[str, tuple[InstanceState, str]] = {
    "pending": (InstanceState.BOOTING, "waiting for the host agent's next heartbeat"),
    "starting": (InstanceState.BOOTING, "handed to the host agent"),
    "running": (InstanceState.RUNNING, "running on the host's machine"),
    "exited": (InstanceState.TERMINATED, "exited"),
    "abandoned": (InstanceState.TERMINATED, "stopped while the host was offline"),
}


class HostAdapter(ProviderAdapter):
    kind: ClassVar[ProviderKind] = "host"
    source = "host"
    live = True
    synced = False  # host offers are published by the marketplace, not synced from here
    agent_in_workload = True

    def __init__(self, config: AdapterConfig, fleet: HostFleet) -> None:
        super().__init__(config)
        self.fleet = fleet

    @classmethod
    def attach(cls, gateway: Gateway, fleet: HostFleet) -> HostAdapter:
        client = gateway.client(NAME, base_url="http://host-machines.invalid")
        return cls(AdapterConfig(NAME, client), fleet)

    def capabilities(self) -> Capabilities:
        return Capabilities.of(
            Capability.LAUNCH,
            offers="host machines are listed by their owners on the marketplace, not synced",
            live_availability="a host machine's free time is its booking calendar",
            spot="host machines are booked by time, not bid for",
            credentials="host machines need no provider key",
        )

    async def list_offers(self) -> ParseReport:
        return ParseReport(offers=[], rows_read=0)

    async def check_credentials(self) -> CredentialCheck:
        return CredentialCheck(True, "host machines need no provider key")

    async def launch(self, request: LaunchRequest) -> Instance:
        machine_id = machine_of(request.offer_ref)
        if machine_id is None:
            raise ProviderRejected(self.name, f"unknown offer {request.offer_ref!r}", 404)
        run = RunRequest(
            machine_id=machine_id,
            client_token=request.client_token,
            label=request.tags.label,
            owner=request.tags.owner,
            command=request.startup_command,
            env=request.env,
        )
        try:
            return self._instance(await self.fleet.start(run))
        except RunRefused as exc:
            raise ProviderRejected(self.name, str(exc), 409) from None

    async def status(self, instance_ids: Sequence[str]) -> list[Instance]:
        known = {run.run_id: run for run in await self.fleet.runs(instance_ids)}
        return [
            self._instance(known[i])
            if i in known
            else Instance(self.name, i, InstanceState.TERMINATED, "unknown")
            for i in instance_ids
        ]

    async def list_tagged(self, deployment: str) -> list[Instance]:
        return [self._instance(run) for run in await self.fleet.live_runs(deployment)]

    async def terminate(self, instance_id: str) -> None:
        await self.fleet.stop(instance_id)

    def _instance(self, run: RunView) -> Instance:
        state, word = _STATES[run.state]
        if state is not InstanceState.TERMINATED and not run.machine_online:
            state, word = InstanceState.UNKNOWN, "the host machine is offline"
        return Instance(
            provider=self.name,
            instance_id=run.run_id,
            state=state,
            provider_status=word if run.exit_code is None else f"{word} ({run.exit_code})",
            tags=Tags.parse(run.label, run.owner),
            instance_type=host_ref(run.machine_id),
            region=None,
            price_per_hour=0,
            created_at=run.created_at,
        )
