"""Host mode: the agent on a host's own machine, listed on the GP4U marketplace. It registers once
with the machine's one-time token, saves the machine id and agent secret in `host-agent.json`
(mode 0600) so a restart needs no new token, then heartbeats until the broker says "stop", the
secret is refused (401) or a signal arrives. The broker counts the machine as online while the
heartbeats arrive. Host mode never powers anything off and has no dead-man switches: when the
broker is unreachable it keeps trying at the normal interval.

It also runs the sessions the broker hands the machine: each heartbeat reports the machine's
runs and its answer says which to start or stop (`gp4u.agent.hostruns`). Once registered, while
no run is using the GPUs, it measures their throughput once per start (`gp4u.agent.benchmark`,
in a child process beside the heartbeats, killed when a run starts or the agent stops) and sends
the figures with its facts from then on. Retired or revoked, the
agent terminates its runs before it exits; stopped by a signal, it leaves them running for the
next start to pick up."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import random
import signal
import sys
import time
from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

import httpx

from gp4u.agent import AGENT_VERSION
from gp4u.agent.broker import BrokerUnavailable, HostBrokerClient, Rejected, Unauthorized
from gp4u.agent.config import ENV_HOST_TOKEN, HostConfig
from gp4u.agent.facts import collect_facts
from gp4u.agent.hostruns import HostRuns
from gp4u.kit.logging import configure_logging, get_logger

log = get_logger("gp4u.agent.host")


class HostOutcome(StrEnum):
    RETIRED = "retired"  # a heartbeat answered "action": "stop"
    REVOKED = "revoked"  # 401: the token or the saved secret is no longer valid
    STOPPED = "stopped"  # SIGTERM or SIGINT


HOST_EXIT_CODES: dict[HostOutcome, int] = {
    HostOutcome.RETIRED: 10,
    HostOutcome.REVOKED: 11,
    HostOutcome.STOPPED: 14,
}
WHY = {
    HostOutcome.RETIRED: "the broker answered stop: the machine was retired by its owner",
    HostOutcome.REVOKED: "the broker refused this machine (401); register the machine again on "
    "GP4U to get a new token",
    HostOutcome.STOPPED: "the agent was stopped by a signal",
}
# While the broker is unreachable: log the first few failures, then one in this many.
LOG_EVERY_NTH_FAILURE = 20
BENCHMARK_COMMAND = (sys.executable, "-m", "gp4u.agent.benchmark")
BENCHMARK_TIMEOUT_SECONDS = 600.0
BENCHMARK_RETRY_SECONDS = 900.0  # after the GPUs were busy or a run interrupted it


class HostSetupError(Exception):
    """The agent cannot start: no token and no saved registration, or an unusable state dir."""


# --- the saved registration (host-agent.json) ----------------------------------------------


@dataclass(frozen=True)
class SavedHost:
    broker: str
    machine_id: int
    agent_secret: str = field(repr=False)


def load_saved(path: Path) -> SavedHost | None:
    """The saved registration, or None when there is none or it is unreadable (logged)."""
    try:
        data: Any = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        log.warning("ignoring an unreadable saved registration", path=str(path), error=str(exc))
        return None
    if isinstance(data, dict):
        broker, machine_id, secret = (data.get(k) for k in ("broker", "machine_id", "agent_secret"))
        if (
            isinstance(broker, str)
            and isinstance(machine_id, int)
            and not isinstance(machine_id, bool)
            and isinstance(secret, str)
            and secret
        ):
            return SavedHost(broker.rstrip("/"), machine_id, secret)
    log.warning("ignoring an incomplete saved registration", path=str(path))
    return None


def save_registration(path: Path, saved: SavedHost) -> None:
    """Replace host-agent.json atomically; the file is mode 0600 from its first byte."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    data = {
        "broker": saved.broker,
        "machine_id": saved.machine_id,
        "agent_secret": saved.agent_secret,
        "registered_at": datetime.now(UTC).isoformat(),
        "agent_version": AGENT_VERSION,
    }
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w") as file:
            os.fchmod(fd, 0o600)  # a leftover temp file keeps its old mode through O_TRUNC
            file.write(json.dumps(data, indent=2) + "\n")
            file.flush()
            os.fsync(file.fileno())
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def forget_registration(path: Path) -> None:
    path.unlink(missing_ok=True)


def saved_for_start(config: HostConfig) -> SavedHost | None:
    """The saved registration to reuse, or None to register with the token. Raises
    HostSetupError when there is neither a usable saved registration nor a token."""
    saved = load_saved(config.state_file)
    if saved is not None and saved.broker == config.broker_url:
        if config.token:
            log.info(
                "reusing the saved registration; the token is not needed",
                machine_id=saved.machine_id,
                path=str(config.state_file),
            )
        return saved
    if config.token:
        if saved is not None:
            log.warning(
                "the saved registration is for another broker; registering with the token "
                "replaces it",
                saved_broker=saved.broker,
                path=str(config.state_file),
            )
        return None
    how = (
        "register the machine on GP4U to get a one-time machine token, then pass it with "
        f"--token or {ENV_HOST_TOKEN}"
    )
    if saved is not None:
        raise HostSetupError(
            f"{config.state_file} holds a registration for another broker ({saved.broker}), "
            f"not {config.broker_url}, and no machine token was given: {how}"
        )
    raise HostSetupError(
        f"no machine token and no saved registration in {config.state_file}: {how}"
    )


def ensure_state_dir(config: HostConfig) -> None:
    """Before a token is spent: the registration must be savable, or a restart needs a new one."""
    try:
        config.state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise HostSetupError(f"cannot create the state dir {config.state_dir}: {exc}") from None
    if not os.access(config.state_dir, os.W_OK | os.X_OK):
        raise HostSetupError(f"cannot write to the state dir {config.state_dir}")


# --- the loop --------------------------------------------------------------------------------


class HostAgent:
    """Register (unless resuming a saved registration), then heartbeat every
    `heartbeat_seconds`. Scheduling uses a monotonic clock, so wall-clock jumps (NTP fixing the
    time after boot) neither stall nor rush the heartbeats. `step()` does what is due now (for
    tests); `run()` is the real loop."""

    def __init__(
        self,
        config: HostConfig,
        *,
        saved: SavedHost | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        facts: Callable[[], dict[str, Any]] = collect_facts,
        benchmark: Sequence[str] = BENCHMARK_COMMAND,
        jitter: Callable[[], float] = random.random,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if saved is None and not config.token:
            raise ValueError("host mode needs a token or a saved registration")
        self.config = config
        self.broker = HostBrokerClient(
            config.broker_url,
            timeout=config.request_timeout_seconds,
            transport=transport,
            agent_secret=saved.agent_secret if saved else None,
        )
        self.machine_id: int | None = saved.machine_id if saved else None
        self.resumed = saved is not None
        self._collect_facts = facts
        self._benchmark = tuple(benchmark) if config.benchmark else None
        self.throughput: dict[str, Any] | None = None  # the benchmark's facts, once measured
        self._measuring: asyncio.Task[None] | None = None
        self._measure_after = monotonic()
        self._jitter = jitter
        self._monotonic = monotonic
        self.heartbeat_seconds = config.heartbeat_seconds
        self.status: str | None = None  # the machine's status on the marketplace
        self.broker_reachable: bool | None = None
        self.beats = 0  # successful heartbeats
        self.failures = 0  # consecutive failed calls
        self.facts: dict[str, Any] | None = None
        # Successful calls since the last one that carried facts; None: none has yet.
        self._calls_since_facts: int | None = None
        self.next_call_at = monotonic()
        self.outcome: HostOutcome | None = None
        self.wake = asyncio.Event()
        self.runs = HostRuns(config.runs_dir)

    @property
    def registered(self) -> bool:
        return self.broker.registered

    @property
    def exit_code(self) -> int | None:
        return None if self.outcome is None else HOST_EXIT_CODES[self.outcome]

    def due(self) -> bool:
        return self.outcome is None and self._monotonic() >= self.next_call_at

    async def step(self) -> HostOutcome | None:
        """Make the broker call that is due now, if any, and return the outcome so far."""
        if self.due():
            await self.call_broker()
        return self.outcome

    def stop(self, signal_name: str) -> None:
        self._finish(HostOutcome.STOPPED, signal=signal_name)
        self.wake.set()

    # --- broker calls ----------------------------------------------------------------------

    async def call_broker(self) -> None:
        """Register until registered, then heartbeat. Anything but a 401, a refused
        registration or "stop" is retried at the normal interval: a host machine waits for the
        broker."""
        call = "heartbeat" if self.registered else "register"
        try:
            if call == "register":
                await self._register()
            else:
                await self._heartbeat()
        except Unauthorized as exc:
            self._unauthorized(call, str(exc))
        except Rejected as exc:
            if call == "register":  # the same token would be refused forever
                self._unauthorized(call, str(exc))
            else:
                self._failed(call, str(exc))
        except BrokerUnavailable as exc:
            self._failed(call, str(exc))
        except Exception as exc:  # a bug must not stop the heartbeats
            log.exception("broker call crashed", call=call)
            self._failed(call, f"{type(exc).__name__}: {exc}")
        finally:
            self.wake.set()

    async def _facts_if_due(self) -> dict[str, Any] | None:
        """Facts go with the first successful call and then every `facts_every`-th one."""
        since = self._calls_since_facts
        if since is not None and since + 1 < self.config.facts_every:
            return None
        try:
            facts = await asyncio.to_thread(self._collect_facts)
        except Exception as exc:  # the heartbeat matters more than the facts
            log.warning("cannot collect machine facts", error=f"{type(exc).__name__}: {exc}")
            return None
        if self.throughput is not None:
            facts = {**facts, "throughput": self.throughput}
        elif self._benchmark is None:
            facts = {
                **facts,
                "throughput": {"error": "not measured: the agent runs --no-benchmark"},
            }
        self.facts = facts
        return facts

    # --- the throughput benchmark ----------------------------------------------------------

    def _measure_when_idle(self) -> None:
        """After each heartbeat's runs were obeyed: start the benchmark once per start while
        no run is live, and kill it as soon as one is (it would slow the renter's work)."""
        busy = any(run.state == "running" for run in self.runs.report())
        if busy and self._measuring is not None:
            log.info("a run started: stopping the gpu benchmark, measuring later")
            self._measuring.cancel()
            self._measuring = None
            self._measure_after = self._monotonic() + BENCHMARK_RETRY_SECONDS
        elif (
            not busy
            and self._benchmark is not None
            and self.throughput is None
            and self._measuring is None
            and self._monotonic() >= self._measure_after
        ):
            self._measuring = asyncio.create_task(self._measure(self._benchmark))

    async def _measure(self, command: tuple[str, ...]) -> None:
        result = await _run_benchmark(command)
        self._measuring = None
        if result.get("retry"):
            log.info("gpu benchmark deferred", reason=result.get("error"))
            self._measure_after = self._monotonic() + BENCHMARK_RETRY_SECONDS
            return
        self.throughput = result
        self._calls_since_facts = None  # the next call carries the figures
        log.info("gpu throughput measured", throughput=result)
        self.wake.set()

    async def stop_measuring(self) -> None:
        task, self._measuring = self._measuring, None
        if task is not None:
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task

    async def _register(self) -> None:
        assert self.config.token
        facts = await self._facts_if_due()
        registration = await self.broker.register(self.config.token, facts)
        self.machine_id = registration.machine_id
        saved = SavedHost(
            self.config.broker_url, registration.machine_id, registration.agent_secret
        )
        try:
            save_registration(self.config.state_file, saved)
        except OSError as exc:
            log.error(
                "cannot save the registration: restarting the agent will need a new token",
                path=str(self.config.state_file),
                error=str(exc),
            )
        self._succeeded(facts, registration.heartbeat_seconds)
        log.info(
            "registered",
            machine_id=self.machine_id,
            heartbeat_seconds=self.heartbeat_seconds,
            state_file=str(self.config.state_file),
            facts=facts is not None,
        )

    async def _heartbeat(self) -> None:
        facts = await self._facts_if_due()
        runs = self.runs.report()
        beat = await self.broker.heartbeat(facts, runs)
        self.beats += 1
        if beat.machine_id is not None and beat.machine_id != self.machine_id:
            log.warning(
                "the broker names another machine id", was=self.machine_id, now=beat.machine_id
            )
            self.machine_id = beat.machine_id
        if beat.status != self.status:
            log.info("machine status", machine_id=self.machine_id, status=beat.status)
            self.status = beat.status
        self._succeeded(facts, beat.heartbeat_seconds)
        log.debug(
            "heartbeat",
            action=beat.action,
            status=beat.status,
            facts=facts is not None,
            runs=len(runs),
        )
        if beat.action == "stop":
            self._finish(HostOutcome.RETIRED, status=beat.status)
            return
        if beat.action != "continue":
            log.warning("unknown heartbeat action, carrying on", action=beat.action)
        await self.runs.apply(beat.runs, beat.runs_problem)
        self._measure_when_idle()

    def _succeeded(
        self, facts_sent: dict[str, Any] | None, heartbeat_seconds: float | None
    ) -> None:
        if facts_sent is not None:
            self._calls_since_facts = 0
        elif self._calls_since_facts is not None:
            self._calls_since_facts += 1
        if heartbeat_seconds is not None and heartbeat_seconds != self.heartbeat_seconds:
            log.info("heartbeat interval", seconds=heartbeat_seconds)
            self.heartbeat_seconds = heartbeat_seconds
        if self.broker_reachable is False:
            log.info("broker reachable again", failures=self.failures)
        self.broker_reachable = True
        self.failures = 0
        self.next_call_at = self._monotonic() + self.heartbeat_seconds

    def _failed(self, call: str, error: str) -> None:
        """Retry after the normal interval plus up to 10 % jitter (hosts coming back after a
        broker outage must not all call at once)."""
        self.failures += 1
        self.broker_reachable = False
        delay = self.heartbeat_seconds * (1 + 0.1 * self._jitter())
        self.next_call_at = self._monotonic() + delay
        if self.failures <= 3 or self.failures % LOG_EVERY_NTH_FAILURE == 0:
            log.warning(
                "broker call failed, will retry",
                call=call,
                error=error,
                failures=self.failures,
                retry_in_seconds=round(delay, 2),
            )

    def _unauthorized(self, call: str, detail: str) -> None:
        if call == "register":
            why = "the broker refused the machine token: it is mistyped, unknown or already used"
        else:
            why = (
                "the broker no longer accepts this machine's agent secret (the machine was "
                "deleted or registered again); the saved registration is removed"
            )
            forget_registration(self.config.state_file)
        self._finish(HostOutcome.REVOKED, call=call, detail=detail, cause=why)

    def _finish(self, outcome: HostOutcome, **details: Any) -> None:
        """Record the outcome. Retired or revoked, the machine's runs are terminated (in the
        background: `run()` waits for them, a stepping caller awaits `runs.settle()`); stopped
        by a signal, they are left running for the next start."""
        if self.outcome is not None:
            return
        self.outcome = outcome
        log.warning(
            "host agent stopping",
            reason=outcome.value,
            why=WHY[outcome],
            exit_code=HOST_EXIT_CODES[outcome],
            machine_id=self.machine_id,
            **details,
        )
        if self._measuring is not None:
            self._measuring.cancel()
        if outcome in (HostOutcome.RETIRED, HostOutcome.REVOKED):
            self.runs.stop_all()

    # --- the real loop ---------------------------------------------------------------------

    async def run(self) -> HostOutcome:
        """Until an outcome: the broker call runs in a task, so a signal is obeyed at once even
        while a call hangs. A registration in flight gets up to the request timeout to finish,
        so a spent token's secret is still saved. Before returning it waits for the runs'
        terminations (retired, revoked), or cancels those in flight (stopped)."""
        call: asyncio.Task[None] | None = None
        registering = False
        try:
            while self.outcome is None:
                self.wake.clear()
                if call is not None and call.done():
                    call = None
                if call is None and self.due():
                    registering = not self.registered
                    call = asyncio.create_task(self.call_broker())
                wait = 0.5 if call is not None else self.next_call_at - self._monotonic()
                with suppress(TimeoutError):
                    await asyncio.wait_for(self.wake.wait(), max(0.0, wait))
            return self.outcome
        finally:
            if call is not None and not call.done():
                if registering:
                    with suppress(TimeoutError):
                        await asyncio.wait_for(
                            asyncio.shield(call), self.config.request_timeout_seconds
                        )
                call.cancel()
                with suppress(asyncio.CancelledError):
                    await call
            await self.stop_measuring()
            ending = self.outcome in (HostOutcome.RETIRED, HostOutcome.REVOKED)
            await self.runs.settle(cancel=not ending)


async def _run_benchmark(command: Sequence[str]) -> dict[str, Any]:
    """The benchmark child's JSON object, or `{"error": why}`; killed when cancelled."""
    try:
        child = await asyncio.create_subprocess_exec(
            *command,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
    except OSError as exc:
        return {"error": f"benchmark failed to start: {exc}"}
    try:
        out, _ = await asyncio.wait_for(child.communicate(), BENCHMARK_TIMEOUT_SECONDS)
    except TimeoutError:
        return {"error": f"benchmark timed out after {BENCHMARK_TIMEOUT_SECONDS:.0f} s"}
    finally:
        if child.returncode is None:
            child.kill()
            await child.wait()
    try:
        result = json.loads(out.decode().strip().splitlines()[-1])
    except (ValueError, IndexError, UnicodeDecodeError):
        result = None
    if not isinstance(result, dict):
        return {"error": f"benchmark failed (exit code {child.returncode}, no result)"}
    return result


def run_host(
    config: HostConfig,
    *,
    log_format: str = "json",
    transport: httpx.AsyncBaseTransport | None = None,
    facts: Callable[[], dict[str, Any]] = collect_facts,
) -> int:
    """Run host mode until an outcome and return its exit code. Raises HostSetupError (before
    any broker call) when there is neither a saved registration nor a token."""
    configure_logging(log_format)
    for name in ("httpx", "httpcore"):  # their INFO lines are per request
        logging.getLogger(name).setLevel(logging.WARNING)
    saved = saved_for_start(config)
    if saved is None:
        ensure_state_dir(config)
    outcome = asyncio.run(_serve(config, saved, transport, facts))
    code = HOST_EXIT_CODES[outcome]
    log.info("host agent exiting", reason=outcome.value, exit_code=code)
    return code


async def _serve(
    config: HostConfig,
    saved: SavedHost | None,
    transport: httpx.AsyncBaseTransport | None,
    facts: Callable[[], dict[str, Any]],
) -> HostOutcome:
    agent = HostAgent(config, saved=saved, transport=transport, facts=facts)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, agent.stop, sig.name)
    log.info(
        "host agent starting",
        broker=config.broker_url,
        machine_id=agent.machine_id,
        registration="saved" if saved else "token",
        heartbeat_seconds=config.heartbeat_seconds,
        state_file=str(config.state_file),
        runs=len(agent.runs.store.records()),
        pid=os.getpid(),
        version=AGENT_VERSION,
    )
    try:
        return await agent.run()
    finally:
        await agent.broker.aclose()
