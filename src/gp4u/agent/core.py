"""The agent's decisions: register (with backoff), heartbeat, forward "done", and stop when a
dead-man switch fires. Time comes from an injectable clock and HTTP from an injectable transport,
so tests step it with `step()`; `run()` is the real loop."""

from __future__ import annotations

import asyncio
import os
import random
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx

from gp4u.agent import AGENT_VERSION
from gp4u.agent.broker import BrokerClient, BrokerUnavailable, Unauthorized
from gp4u.agent.config import AgentConfig, iso
from gp4u.agent.facts import collect_facts
from gp4u.agent.switches import EXIT_CODES, DeadMan, Reason
from gp4u.kit.clock import Clock, SystemClock
from gp4u.kit.logging import get_logger

log = get_logger("gp4u.agent")

WHY = {
    Reason.DONE: "the workload reported it is done",
    Reason.BROKER_SHUTDOWN: "the broker asked for a shutdown",
    Reason.REVOKED: "the broker no longer knows this session (401)",
    Reason.HARD_DEADLINE: "the hard deadline has passed",
    Reason.BROKER_TIMEOUT: "no successful answer from the broker within the broker timeout",
    Reason.STOPPED: "the agent was stopped by a signal; the machine is left running",
}
MAX_MESSAGE = 2000


@dataclass(frozen=True)
class DoneRequest:
    exit_code: int | None
    message: str | None


class Agent:
    def __init__(
        self,
        config: AgentConfig,
        *,
        clock: Clock | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        facts: Callable[[], dict[str, Any]] = collect_facts,
        jitter: Callable[[], float] = random.random,
        on_registered: Callable[[], None] | None = None,
    ) -> None:
        self.config = config
        self._on_registered = on_registered
        self.clock: Clock = clock or SystemClock()
        self.broker = BrokerClient(
            config.broker_url, timeout=config.request_timeout_seconds, transport=transport
        )
        self._collect_facts = facts
        self._jitter = jitter
        now = self.clock.now()
        self.started_at = now
        self.deadman = DeadMan(
            started_at=now,
            broker_timeout=timedelta(seconds=config.broker_timeout_seconds),
            configured_deadline=config.hard_deadline,
        )
        self.heartbeat_seconds = config.heartbeat_seconds
        self.session_id: int | None = None
        self.refused = False  # the broker refused the token: registration cannot succeed
        self.broker_reachable: bool | None = None
        self.broker_state: str | None = None
        self.ends_at: datetime | None = None
        self.facts: dict[str, Any] | None = None
        self.beats = 0
        self.failures = 0
        self.next_call_at = now
        self.done_request: DoneRequest | None = None
        self.reason: Reason | None = None
        self.wake = asyncio.Event()

    @property
    def registered(self) -> bool:
        return self.session_id is not None

    @property
    def exit_code(self) -> int | None:
        return None if self.reason is None else EXIT_CODES[self.reason]

    @property
    def tick_seconds(self) -> float:
        """How often `run()` looks at the switches: at least twice a second."""
        return max(0.05, min(0.5, self.heartbeat_seconds / 4))

    # --- decisions -------------------------------------------------------------------------

    def check(self) -> Reason | None:
        """The shutdown reason, if there is one now (the dead-man switches included)."""
        if self.reason is None:
            if self.done_request is not None and self.refused:
                self._finish(Reason.DONE, forwarded=False)
            elif (reason := self.deadman.check(self.clock.now())) is not None:
                self._finish(reason)
        return self.reason

    def due(self) -> bool:
        """Whether a broker call (register, done or heartbeat) should start now."""
        return self.reason is None and not self.refused and self.clock.now() >= self.next_call_at

    async def step(self) -> Reason | None:
        """Do what is due now, waiting for any broker call, and return the shutdown reason."""
        if self.check() is None and self.due():
            await self.call_broker()
        return self.check()

    def request_done(self, exit_code: int | None, message: str | None) -> bool:
        """The workload finished: tell the broker at once, then shut down. False if a done was
        already requested (the first one wins)."""
        if self.done_request is not None:
            return False
        if message is not None:
            message = message[:MAX_MESSAGE]
        self.done_request = DoneRequest(exit_code, message)
        self.next_call_at = min(self.next_call_at, self.clock.now())
        log.info("workload done", exit_code=exit_code, message=message)
        self.wake.set()
        return True

    def stop(self, signal_name: str) -> None:
        self._finish(Reason.STOPPED, signal=signal_name)
        self.wake.set()

    # --- broker calls ----------------------------------------------------------------------

    async def call_broker(self) -> None:
        """One broker call: register until registered, then forward done or heartbeat. Failures
        are retried with backoff; a 401 refuses the token (register) or ends the session."""
        call = "register" if not self.registered else "done" if self.done_request else "heartbeat"
        try:
            if call == "register":
                await self._register()
            elif call == "done":
                await self._forward_done()
            else:
                await self._heartbeat()
        except Unauthorized as exc:
            if call == "register":
                self.refused = True
                self.broker_reachable = True
                log.error(
                    "registration refused: the token is unknown or already used; "
                    "waiting for the dead-man switches",
                    detail=str(exc),
                    hard_deadline=iso(self.deadman.hard_deadline),
                    broker_timeout_seconds=self.deadman.broker_timeout.total_seconds(),
                )
            else:
                self._finish(Reason.REVOKED, call=call, detail=str(exc))
        except BrokerUnavailable as exc:
            self._failed(call, str(exc))
        except Exception as exc:  # a bug must not stop the heartbeats or the switches
            log.exception("broker call crashed", call=call)
            self._failed(call, f"{type(exc).__name__}: {exc}")
        finally:
            self.wake.set()

    async def _facts(self) -> dict[str, Any]:
        self.facts = await asyncio.to_thread(self._collect_facts)
        return self.facts

    async def _register(self) -> None:
        facts = self.facts if self.facts is not None else await self._facts()
        registration = await self.broker.register(self.config.token, facts)
        self.session_id = registration.session_id
        if registration.heartbeat_seconds is not None:
            self.heartbeat_seconds = registration.heartbeat_seconds
        if registration.broker_timeout_seconds is not None:
            self.deadman.broker_timeout = timedelta(seconds=registration.broker_timeout_seconds)
        self.ends_at = registration.ends_at
        self._succeeded(registration.hard_deadline)
        log.info(
            "registered",
            session_id=self.session_id,
            heartbeat_seconds=self.heartbeat_seconds,
            broker_timeout_seconds=self.deadman.broker_timeout.total_seconds(),
            hard_deadline=iso(self.deadman.hard_deadline),
            ends_at=iso(self.ends_at),
        )
        if self._on_registered is not None:
            self._on_registered()

    async def _heartbeat(self) -> None:
        self.beats += 1
        facts = await self._facts() if self.beats % self.config.facts_every == 0 else None
        beat = await self.broker.heartbeat(facts)
        self.broker_state = beat.state
        if beat.ends_at is not None:
            self.ends_at = beat.ends_at
        self._succeeded(beat.hard_deadline)
        log.debug("heartbeat", action=beat.action, state=beat.state, facts=facts is not None)
        if beat.action == "shutdown":
            self._finish(Reason.BROKER_SHUTDOWN, state=beat.state)
        elif beat.action != "continue":
            log.warning("unknown heartbeat action, carrying on", action=beat.action)

    async def _forward_done(self) -> None:
        assert self.done_request is not None
        state = await self.broker.done(self.done_request.exit_code, self.done_request.message)
        self.broker_state = state
        self._succeeded(None)
        self._finish(Reason.DONE, forwarded=True, state=state)

    def _succeeded(self, hard_deadline: datetime | None) -> None:
        now = self.clock.now()
        self.deadman.contact(now, hard_deadline)
        if self.broker_reachable is False:
            log.info("broker reachable again", failures=self.failures)
        self.broker_reachable = True
        self.failures = 0
        # A pending done goes at once (it was waiting for the registration).
        wait = 0.0 if self.done_request is not None else self.heartbeat_seconds
        self.next_call_at = now + timedelta(seconds=wait)

    def _failed(self, call: str, error: str) -> None:
        """Retry after 1 s, 2 s, 4 s … (plus up to 10 % jitter), never later than a heartbeat."""
        self.failures += 1
        self.broker_reachable = False
        base = min(1.0, self.heartbeat_seconds)
        delay = min(self.heartbeat_seconds, base * 2 ** min(self.failures - 1, 16))
        delay *= 1 + 0.1 * self._jitter()
        self.next_call_at = self.clock.now() + timedelta(seconds=delay)
        log.warning(
            "broker call failed",
            call=call,
            error=error,
            failures=self.failures,
            retry_in_seconds=round(delay, 2),
            silent_since=iso(self.deadman.silent_since()),
        )

    def _finish(self, reason: Reason, **details: Any) -> None:
        if self.reason is not None:
            return
        self.reason = reason
        log.warning(
            "shutting down",
            reason=reason.value,
            why=WHY[reason],
            exit_code=EXIT_CODES[reason],
            session_id=self.session_id,
            hard_deadline=iso(self.deadman.hard_deadline),
            last_contact=iso(self.deadman.last_contact),
            **details,
        )

    # --- the real loop and the status ------------------------------------------------------

    async def run(self) -> Reason:
        """Until a reason to shut down: broker calls run in a task, so a hanging broker never
        delays the dead-man switches, which are checked every `tick_seconds`."""
        call: asyncio.Task[None] | None = None
        try:
            while True:
                self.wake.clear()
                if (reason := self.check()) is not None:
                    return reason
                if call is not None and call.done():
                    call = None
                if call is None and self.due():
                    call = asyncio.create_task(self.call_broker())
                with suppress(TimeoutError):
                    await asyncio.wait_for(self.wake.wait(), self.tick_seconds)
        finally:
            if call is not None and not call.done():
                call.cancel()
                with suppress(asyncio.CancelledError):
                    await call

    def status(self) -> dict[str, Any]:
        """What `GET /status` answers (never the token or the secret)."""
        now = self.clock.now()
        return {
            "session_id": self.session_id,
            "registered": self.registered,
            "registration_refused": self.refused,
            "broker": self.config.broker_url,
            "broker_reachable": self.broker_reachable,
            "broker_state": self.broker_state,
            "last_contact": iso(self.deadman.last_contact),
            "started_at": iso(self.started_at),
            "hard_deadline": iso(self.deadman.hard_deadline),
            "ends_at": iso(self.ends_at),
            "seconds_left": self.deadman.seconds_left(now),
            "heartbeat_seconds": self.heartbeat_seconds,
            "broker_timeout_seconds": self.deadman.broker_timeout.total_seconds(),
            "done_requested": self.done_request is not None,
            "shutting_down": None if self.reason is None else self.reason.value,
            "facts": self.facts,
            "agent_version": AGENT_VERSION,
            "pid": os.getpid(),
        }
