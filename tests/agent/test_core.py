"""The agent's decisions, stepped with a frozen clock against a mock broker transport."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from gp4u.agent.config import AgentConfig
from gp4u.agent.core import Agent
from gp4u.agent.switches import Reason
from gp4u.kit.clock import FrozenClock, SystemClock

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
TOKEN = "tok-unit-3b1f"
SECRET = "secret-unit-77aa"
FACTS = {"hostname": "box", "gpu_count": 0}


@dataclass
class MockBroker:
    """Answers like the broker; `fail` makes the next calls raise a connection error."""

    register_status: int = 200
    heartbeat_seconds: float | None = None
    broker_timeout_seconds: float | None = None
    hard_deadline: datetime | None = None
    action: str = "continue"
    heartbeat_status: int = 200
    fail: int = 0
    calls: list[tuple[str, dict[str, str], Any]] = field(default_factory=list)

    def handler(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path.rsplit("/", 1)[-1]
        body = json.loads(request.content)
        self.calls.append((path, dict(request.headers), body))
        if self.fail:
            self.fail -= 1
            raise httpx.ConnectError("connection refused", request=request)
        deadline = self.hard_deadline.isoformat() if self.hard_deadline else None
        if path == "register":
            if self.register_status != 200:
                return httpx.Response(self.register_status, json={"error": "X", "detail": "no"})
            answer: dict[str, Any] = {
                "session_id": 42,
                "agent_secret": SECRET,
                "hard_deadline": deadline,
                "ends_at": deadline,
            }
            if self.heartbeat_seconds is not None:
                answer["heartbeat_seconds"] = self.heartbeat_seconds
            if self.broker_timeout_seconds is not None:
                answer["broker_timeout_seconds"] = self.broker_timeout_seconds
            return httpx.Response(200, json=answer)
        if request.headers.get("authorization") != f"Bearer {SECRET}":
            return httpx.Response(401, json={"error": "Unauthorized", "detail": "bad secret"})
        if path == "heartbeat":
            if self.heartbeat_status != 200:
                return httpx.Response(self.heartbeat_status, json={"error": "E", "detail": "e"})
            return httpx.Response(
                200, json={"action": self.action, "state": "running", "hard_deadline": deadline}
            )
        return httpx.Response(200, json={"action": "shutdown", "state": "done"})

    def paths(self) -> list[str]:
        return [call[0] for call in self.calls]


def _agent(
    broker: MockBroker,
    clock: FrozenClock | None = None,
    *,
    facts: Callable[[], dict[str, Any]] = lambda: dict(FACTS),
    **options: Any,
) -> Agent:
    config = AgentConfig(broker="http://broker.test/", token=TOKEN, **options)
    return Agent(
        config,
        clock=clock or FrozenClock(T0),
        transport=httpx.MockTransport(broker.handler),
        facts=facts,
        jitter=lambda: 0.0,
    )


async def test_registers_with_token_and_facts_then_heartbeats_on_schedule() -> None:
    broker, clock = MockBroker(), FrozenClock(T0)
    agent = _agent(broker, clock, facts_every=3)
    assert await agent.step() is None
    [(path, headers, body)] = broker.calls
    assert (path, body) == ("register", {"token": TOKEN, "facts": FACTS})
    assert "authorization" not in headers
    assert (agent.session_id, agent.registered, agent.broker_reachable) == (42, True, True)
    await agent.step()  # nothing due yet
    assert broker.paths() == ["register"]
    for _ in range(3):
        clock.advance(timedelta(seconds=30))
        assert await agent.step() is None
    assert broker.paths() == ["register", "heartbeat", "heartbeat", "heartbeat"]
    beats = [call for call in broker.calls if call[0] == "heartbeat"]
    assert all(h["authorization"] == f"Bearer {SECRET}" for _, h, _ in beats)
    assert [b["facts"] for _, _, b in beats] == [None, None, FACTS]  # every 3rd beat
    assert agent.deadman.last_contact == clock.now()


async def test_the_brokers_heartbeat_and_timeout_override_the_defaults() -> None:
    broker, clock = MockBroker(heartbeat_seconds=5, broker_timeout_seconds=50), FrozenClock(T0)
    agent = _agent(broker, clock)
    await agent.step()
    assert agent.heartbeat_seconds == 5
    assert agent.deadman.broker_timeout == timedelta(seconds=50)
    clock.advance(timedelta(seconds=5))
    await agent.step()
    assert broker.paths() == ["register", "heartbeat"]
    broker.fail = 100
    clock.advance(timedelta(seconds=49))
    assert await agent.step() is None
    clock.advance(timedelta(seconds=1))
    assert await agent.step() is Reason.BROKER_TIMEOUT
    assert agent.exit_code == 13


async def test_registration_retries_with_exponential_backoff() -> None:
    broker, clock = MockBroker(fail=3), FrozenClock(T0)
    agent = _agent(broker, clock, heartbeat_seconds=3)
    waits = []
    for _ in range(3):
        await agent.step()
        assert agent.broker_reachable is False
        waits.append((agent.next_call_at - clock.now()).total_seconds())
        clock.advance(agent.next_call_at - clock.now())
    assert waits == [1.0, 2.0, 3.0]  # doubling, capped at the heartbeat
    await agent.step()
    assert agent.registered and agent.failures == 0
    assert broker.paths() == ["register"] * 4


async def test_the_broker_saying_shutdown_stops_the_agent() -> None:
    broker, clock = MockBroker(), FrozenClock(T0)
    agent = _agent(broker, clock)
    await agent.step()
    broker.action = "shutdown"
    clock.advance(timedelta(seconds=30))
    assert await agent.step() is Reason.BROKER_SHUTDOWN
    assert agent.exit_code == 10
    clock.advance(timedelta(seconds=30))
    assert await agent.step() is Reason.BROKER_SHUTDOWN
    assert broker.paths() == ["register", "heartbeat"]  # no call after the decision


async def test_a_401_on_heartbeat_means_the_session_is_gone() -> None:
    broker, clock = MockBroker(), FrozenClock(T0)
    agent = _agent(broker, clock)
    await agent.step()
    broker.heartbeat_status = 401
    clock.advance(timedelta(seconds=30))
    assert await agent.step() is Reason.REVOKED
    assert agent.exit_code == 11


async def test_a_server_error_is_retried_not_obeyed() -> None:
    broker, clock = MockBroker(), FrozenClock(T0)
    agent = _agent(broker, clock)
    await agent.step()
    broker.heartbeat_status = 503
    clock.advance(timedelta(seconds=30))
    assert await agent.step() is None
    assert agent.broker_reachable is False
    broker.heartbeat_status = 200
    clock.advance(timedelta(seconds=1))
    assert await agent.step() is None
    assert agent.broker_reachable is True
    assert broker.paths() == ["register", "heartbeat", "heartbeat"]


async def test_a_refused_token_leaves_only_the_dead_man_switches() -> None:
    broker, clock = MockBroker(register_status=401), FrozenClock(T0)
    agent = _agent(broker, clock, broker_timeout_seconds=120)
    assert await agent.step() is None
    assert agent.refused and not agent.registered
    for _ in range(3):
        clock.advance(timedelta(seconds=30))
        assert await agent.step() is None
    assert broker.paths() == ["register"]  # never again: the token is spent
    clock.advance(timedelta(seconds=30))
    assert await agent.step() is Reason.BROKER_TIMEOUT


async def test_the_hard_deadline_is_the_earliest_and_fires_with_the_broker_alive() -> None:
    broker = MockBroker(hard_deadline=T0 + timedelta(minutes=2))
    clock = FrozenClock(T0)
    agent = _agent(broker, clock, hard_deadline=T0 + timedelta(minutes=10))
    await agent.step()
    assert agent.deadman.hard_deadline == T0 + timedelta(minutes=2)
    broker.hard_deadline = T0 + timedelta(hours=1)  # extended by the broker, capped by launch
    clock.advance(timedelta(seconds=30))
    await agent.step()
    assert agent.deadman.hard_deadline == T0 + timedelta(minutes=10)
    assert agent.status()["seconds_left"] == 570.0
    clock.advance(timedelta(minutes=9, seconds=30))
    assert await agent.step() is Reason.HARD_DEADLINE
    assert agent.exit_code == 12


async def test_a_deadline_in_the_past_stops_before_any_call() -> None:
    broker = MockBroker()
    agent = _agent(broker, hard_deadline=T0 - timedelta(seconds=1))
    assert await agent.step() is Reason.HARD_DEADLINE
    assert broker.calls == []


async def test_done_is_forwarded_then_the_agent_stops() -> None:
    broker, clock = MockBroker(), FrozenClock(T0)
    agent = _agent(broker, clock)
    await agent.step()
    assert agent.request_done(3, "all good")
    assert not agent.request_done(4, "again")  # the first one wins
    assert await agent.step() is Reason.DONE  # at once, not at the next heartbeat
    path, headers, body = broker.calls[-1]
    assert (path, body) == ("done", {"exit_code": 3, "message": "all good"})
    assert headers["authorization"] == f"Bearer {SECRET}"
    assert agent.exit_code == 0


async def test_done_before_registration_registers_first_and_retries() -> None:
    broker, clock = MockBroker(fail=1), FrozenClock(T0)
    agent = _agent(broker, clock)
    agent.request_done(None, None)
    assert await agent.step() is None  # the broker is down
    clock.advance(timedelta(seconds=1))
    assert await agent.step() is None  # registered
    broker.fail = 1
    assert await agent.step() is None  # done failed: retried after the backoff
    clock.advance(timedelta(seconds=1))
    assert await agent.step() is Reason.DONE
    assert broker.paths() == ["register", "register", "done", "done"]


async def test_done_with_a_refused_token_stops_without_the_broker() -> None:
    broker = MockBroker(register_status=401)
    agent = _agent(broker)
    await agent.step()
    agent.request_done(0, None)
    assert await agent.step() is Reason.DONE
    assert broker.paths() == ["register"]


async def test_facts_that_crash_do_not_stop_the_agent() -> None:
    def broken() -> dict[str, Any]:
        raise RuntimeError("boom")

    broker, clock = MockBroker(), FrozenClock(T0)
    agent = _agent(broker, clock, facts=broken)
    assert await agent.step() is None
    assert agent.broker_reachable is False and agent.failures == 1


async def test_the_status_never_shows_the_token_or_secret() -> None:
    broker = MockBroker(hard_deadline=T0 + timedelta(hours=1))
    agent = _agent(broker)
    await agent.step()
    status = agent.status()
    assert status["registered"] is True and status["session_id"] == 42
    assert status["last_contact"] == T0.isoformat()
    assert status["facts"] == FACTS
    text = json.dumps(status) + repr(agent.config)
    assert TOKEN not in text and SECRET not in text


async def test_run_stops_on_the_brokers_word() -> None:
    broker = MockBroker(heartbeat_seconds=0.05, action="shutdown")
    config = AgentConfig(broker="http://broker.test", token=TOKEN)
    agent = Agent(config, transport=httpx.MockTransport(broker.handler), facts=lambda: dict(FACTS))
    assert await asyncio.wait_for(agent.run(), 10) is Reason.BROKER_SHUTDOWN


async def test_a_hanging_broker_does_not_hold_up_the_switches() -> None:
    async def hang(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(60)
        raise AssertionError("unreachable")

    config = AgentConfig(
        broker="http://broker.test", token=TOKEN, broker_timeout_seconds=0.3, heartbeat_seconds=1
    )
    agent = Agent(config, clock=SystemClock(), transport=httpx.MockTransport(hang), facts=dict)
    assert await asyncio.wait_for(agent.run(), 10) is Reason.BROKER_TIMEOUT


@pytest.mark.parametrize(
    ("field", "value"),
    [("broker", "broker.test"), ("token", ""), ("heartbeat_seconds", 0), ("facts_every", 0)],
)
def test_incoherent_configuration_is_refused(field: str, value: Any) -> None:
    options: dict[str, Any] = {"broker": "http://b", "token": "t", field: value}
    with pytest.raises(ValueError):
        AgentConfig(**options)
