"""Host mode's runs: the sessions the broker hands this machine through its heartbeats, each run
as a workload process (`gp4u.agent.workload`, the same one a `local` provider instance runs)
kept in `<state_dir>/runs/<id>/` by a `WorkloadStore`.

Every heartbeat reports each run the agent has a record of: "running" while its process is
alive (booting counts), "exited" once it is gone, with the exit code it wrote (or null). When the
answer carries `runs`, the agent obeys it: "run" starts a run it has no record of (with the env
given: the session agent's token and broker URL, never logged), "stop" terminates a live run and
keeps its record, and a run the list no longer names is terminated and its folder removed.
An answer without `runs` (an older broker) changes nothing. Terminations run in the background
(up to 5 s each), so heartbeats keep flowing. The runs are in their own process sessions: they
outlive the agent, and a restarted agent finds them again in the runs folder."""

from __future__ import annotations

import asyncio
from contextlib import suppress
from pathlib import Path

from gp4u.agent.broker import RunOrder, RunOrders, RunReport
from gp4u.agent.workloads import WorkloadStore
from gp4u.kit.logging import get_logger

log = get_logger("gp4u.agent.host")


class HostRuns:
    def __init__(self, root: Path) -> None:
        self.store = WorkloadStore(root)
        self._stopping: dict[str, asyncio.Task[None]] = {}  # terminations in flight, by run id
        self._wanted: frozenset[str] | None = None  # the ids the last answer listed
        self._without_env: set[str] = set()  # "run" orders without env, logged once each

    def report(self) -> list[RunReport]:
        """What the next heartbeat says about each run on record."""
        reports = []
        for record in self.store.records():
            if self.store.alive(record):
                reports.append(RunReport(record["id"], "running", None))
            else:
                reports.append(RunReport(record["id"], "exited", self.store.exit_code(record)))
        return reports

    async def apply(self, runs: RunOrders | None, problem: str | None = None) -> None:
        """Obey a heartbeat answer's runs (None: it had none, nothing changes). Never raises:
        a run that cannot be started or stopped is logged and tried again on the next answer."""
        if problem is not None:
            log.warning("ignoring the heartbeat answer's runs", problem=problem)
        if runs is None:
            return
        for reason in runs.skipped:
            log.warning("skipping a malformed run", problem=reason)
        self._wanted = runs.listed
        try:
            records = {r["id"]: r for r in self.store.records()}
        except OSError as exc:
            log.error("cannot read the runs", path=str(self.store.root), error=str(exc))
            return
        for order in runs.orders:
            record = records.get(order.id)
            if order.action == "stop":
                if record is not None and self.store.alive(record):
                    self._terminate(order.id, remove=False)
            elif record is None:
                await self._start(order)
        for run_id in records.keys() - runs.listed:
            self._terminate(run_id, remove=True)

    def stop_all(self) -> None:
        """Terminate every live run in the background, keeping the records."""
        for record in self.store.records():
            if self.store.alive(record):
                self._terminate(record["id"], remove=False)

    async def settle(self, *, cancel: bool = False) -> None:
        """Wait for the terminations in flight (or cancel them: the runs stay as they are)."""
        tasks = list(self._stopping.values())
        for task in tasks if cancel else []:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _start(self, order: RunOrder) -> None:
        if order.env is None:
            if order.id not in self._without_env:
                self._without_env.add(order.id)
                log.warning("not starting a run the broker sent without its env", run=order.id)
            return
        try:
            record = await self.store.start(order.id, order.command, order.env)
        except (OSError, ValueError) as exc:
            log.error("cannot start a run", run=order.id, error=f"{type(exc).__name__}: {exc}")
            return
        log.info(
            "run started",
            run=order.id,
            pid=record["pid"],
            command=order.command is not None,
            node_agent=all(order.env.get(k) for k in ("GP4U_AGENT_TOKEN", "GP4U_AGENT_BROKER")),
        )

    def _terminate(self, run_id: str, *, remove: bool) -> None:
        if run_id in self._stopping:
            return
        task = asyncio.create_task(self._stop(run_id, remove=remove))
        self._stopping[run_id] = task
        task.add_done_callback(lambda _: self._stopping.pop(run_id, None))

    async def _stop(self, run_id: str, *, remove: bool) -> None:
        try:
            record = self.store.record(run_id)
            if record is not None and self.store.alive(record):
                log.info("stopping a run", run=run_id, removing=remove)
                await self.store.terminate(run_id)
                if self.store.alive(record):
                    log.error("a run did not stop; trying again later", run=run_id)
                    return
                log.info("run stopped", run=run_id, exit_code=self.store.exit_code(record))
            # Removed only while the broker still does not want it (a newer answer may).
            if remove and (self._wanted is None or run_id not in self._wanted):
                with suppress(ValueError):
                    self.store.remove(run_id)
                log.info("run removed", run=run_id)
        except Exception:  # a bug here must not stop the heartbeats
            log.exception("stopping a run crashed", run=run_id)
