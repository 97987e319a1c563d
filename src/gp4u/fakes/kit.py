"""What every fake provider server shares: fault switches, a request log, stateful instances,
a control API under `/_fake/`, and a way to run the server for real on a local port.

Fault switches (`POST /_fake/faults`, merged into the current ones):
- `latency_ms`: delay every request; `hang_seconds`: do the work, then answer only after this
  long (timeouts where the provider did act);
- `fail_status` + `fail_next`: the next N calls answer that status (500 by default);
  `fail_all`: every call does;
- `rate_limit_next`: the next N calls answer 429 with `Retry-After: retry_after`;
  `max_per_second`: the provider's own limit, beyond which it answers 429;
- `malformed_json`: JSON bodies are cut short; `missing_fields`: record fields the fake leaves out;
- `lying_create`: a create makes the instance but answers 500;
- `lying_destroy`: a destroy answers success but the instance keeps running.
`paths` restricts latency/failure faults to request paths that start with one of its entries;
`operations` restricts them to requests of those logical operations, which every fake names the
same way whatever its API looks like (one GraphQL URL, a path shared by GET and DELETE):
`offers`, `create`, `show` (one instance), `list` (the account's instances), `destroy`, and a
few provider extras (`ssh_key`, `account`, `power`). Both set means both must match.

`POST /_fake/instances` adds an instance created outside GP4U (attrs as the fake keeps them, plus
an optional `price_per_hour` in integer micro-USD); `GET /_fake/requests` returns the request
log (method, path, operations, arrival time) and `POST /_fake/reset` clears everything.

Time: every "now" a fake reads (instance creation, boot → running, termination, the
`max_per_second` window, the request log) comes from `FakeState.now()`: the state's `clock`
(`time.time` by default) plus an offset. In-process tests inject a clock through the state,
the same way for every fake: `create_app(FakeState(clock=lambda: frozen.now().timestamp()))`,
or `app.state.fake.clock = ...` on an app built elsewhere. A fake run as its own process moves
its time with `POST /_fake/clock {"advance_seconds": s}` (adds to the offset) and tells it with
`GET /_fake/clock` → `{"now": epoch seconds}`; reset clears the offset. Latency and hang faults
stay real sleeps: they stand for network time, which client timeouts measure.

Billing: each instance is billed from creation until termination (a `lying_destroy` does not
end it; a `lying_create` starts it) at the hourly price the fake itself gives the rented offer,
in integer micro-USD, per whole second: `price_per_hour * seconds // 3600`. `GET /_fake/billing`
and `FakeState.billing()` list `{id, external, label, price_per_hour, created, terminated,
billed_micros}` per instance.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

import orjson
import uvicorn
from fastapi import APIRouter, FastAPI, Request, Response
from pydantic import BaseModel, ConfigDict, Field

CONTROL = "/_fake"
MICROS = 1_000_000

Clock = Callable[[], float]  # epoch seconds
Classifier = Callable[[Request], Awaitable[frozenset[str]]]  # a request's logical operations


class Faults(BaseModel):
    model_config = ConfigDict(extra="forbid")

    latency_ms: int = 0
    hang_seconds: float = 0.0
    fail_status: int = 500
    fail_next: int = 0
    fail_all: bool = False
    rate_limit_next: int = 0
    retry_after: float = 1.0
    max_per_second: int | None = None
    malformed_json: bool = False
    missing_fields: list[str] = []
    lying_create: bool = False
    lying_destroy: bool = False
    paths: list[str] = []
    operations: list[str] = []


class ClockMove(BaseModel):
    model_config = ConfigDict(extra="forbid")

    advance_seconds: float = Field(ge=0)


def micros(usd: Any) -> int:
    """Dollars (a number, or its text) as integer micro-USD, rounded half up; 0 when the value
    is not a number (hand-written offers may leave the price out)."""
    if isinstance(usd, bool) or not isinstance(usd, int | float | str | Decimal):
        return 0
    try:
        value = Decimal(str(usd)) * MICROS
    except InvalidOperation:
        return 0
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP)) if value.is_finite() else 0


@dataclass
class FakeInstance:
    """An instance on a fake provider. Its state follows its clock (its fake's time): booting for
    `boot_seconds`, then running, until terminated. Billed at `price_per_hour` micro-USD."""

    id: str
    created: float
    boot_seconds: float
    attrs: dict[str, Any] = field(default_factory=dict)
    terminated: float | None = None
    external: bool = False  # created outside GP4U (through the control API)
    price_per_hour: int = 0
    clock: Clock = field(default=time.time, repr=False, compare=False)

    def state(self, now: float | None = None) -> str:
        now = self.clock() if now is None else now
        if self.terminated is not None and now >= self.terminated:
            return "terminated"
        return "booting" if now < self.created + self.boot_seconds else "running"

    def billed_micros(self, now: float | None = None) -> int:
        """What the provider has billed so far: whole seconds alive times the hourly price."""
        now = self.clock() if now is None else now
        end = now if self.terminated is None else min(now, self.terminated)
        # Whole seconds from whole microseconds, so float noise (3599.9999998) is not a second less.
        seconds = max(0, round((end - self.created) * MICROS)) // MICROS
        return self.price_per_hour * seconds // 3600

    def label(self) -> str | None:
        """The GP4U tag label (Vast `label`) or the instance name, if any."""
        for key in ("label", "name"):
            value = self.attrs.get(key)
            if isinstance(value, str) and value:
                return value
        return None


@dataclass
class FakeState:
    """Everything a fake provider knows. Handlers read faults and instances from here."""

    api_key: str = "test-key"
    boot_seconds: float = 0.3
    faults: Faults = field(default_factory=Faults)
    offers: list[dict[str, Any]] = field(default_factory=list)  # provider-native records
    instances: dict[str, FakeInstance] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)
    tokens: dict[str, str] = field(default_factory=dict)  # client token → instance id
    clock: Clock = time.time
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1000))
    _second: tuple[int, int] = (0, 0)  # (epoch second, calls in it) for max_per_second
    _offset: float = 0.0  # seconds added to `clock` (`POST /_fake/clock`)

    def now(self) -> float:
        """The fake's time, in epoch seconds."""
        return self.clock() + self._offset

    def advance(self, seconds: float) -> float:
        """Move the fake's time forward by `seconds`; the new now."""
        if seconds < 0:
            raise ValueError("a fake's time only moves forward")
        self._offset += seconds
        return self.now()

    def next_id(self) -> int:
        return next(self._ids)

    def create_instance(
        self, attrs: dict[str, Any], *, external: bool = False, price_per_hour: int = 0
    ) -> FakeInstance:
        """A new instance, booting from now on, billed at `price_per_hour` micro-USD."""
        instance = FakeInstance(
            str(self.next_id()),
            self.now(),
            self.boot_seconds,
            dict(attrs),
            external=external,
            price_per_hour=price_per_hour,
            clock=self.now,
        )
        self.instances[instance.id] = instance
        return instance

    def live_instances(self) -> list[FakeInstance]:
        now = self.now()
        return [i for i in self.instances.values() if i.state(now) != "terminated"]

    def terminate(self, instance_id: str) -> bool:
        """Terminate (or, with `lying_destroy`, pretend to). False when unknown or gone."""
        now = self.now()
        instance = self.instances.get(instance_id)
        if instance is None or instance.state(now) == "terminated":
            return False
        if not self.faults.lying_destroy:
            instance.terminated = now
        return True

    def billing(self) -> list[dict[str, Any]]:
        """What the provider bills for each instance it ever had, as `GET /_fake/billing`."""
        now = self.now()
        return [
            {
                "id": i.id,
                "external": i.external,
                "label": i.label(),
                "price_per_hour": i.price_per_hour,
                "created": i.created,
                "terminated": i.terminated,
                "billed_micros": i.billed_micros(now),
            }
            for i in self.instances.values()
        ]

    def strip(self, record: dict[str, Any]) -> dict[str, Any]:
        """A record with the `missing_fields` fault applied."""
        if not self.faults.missing_fields:
            return record
        return {k: v for k, v in record.items() if k not in self.faults.missing_fields}

    def reset(self) -> None:
        self.faults = Faults()
        self.instances.clear()
        self.requests.clear()
        self.tokens.clear()
        self._second = (0, 0)
        self._offset = 0.0


def json_response(state: FakeState, body: Any, status: int = 200) -> Response:
    """A JSON answer; with the `malformed_json` fault the body is cut in half."""
    raw = orjson.dumps(body)
    if state.faults.malformed_json:
        raw = raw[: max(1, len(raw) // 2)]
    return Response(raw, status_code=status, media_type="application/json")


def bearer_ok(request: Request, state: FakeState) -> bool:
    return request.headers.get("authorization", "") == f"Bearer {state.api_key}"


def _applies(state: FakeState, path: str, operations: frozenset[str]) -> bool:
    f = state.faults
    if f.paths and not any(path.startswith(p) for p in f.paths):
        return False
    return not f.operations or not operations.isdisjoint(f.operations)


def routes(*table: tuple[str, str, str]) -> Classifier:
    """A classifier from `(method, path regex, operation)` rows; the regex must match the whole
    path. A request no row matches has no operation."""
    compiled = [(method, re.compile(pattern), op) for method, pattern, op in table]

    async def classify(request: Request) -> frozenset[str]:
        path, method = request.url.path, request.method
        return frozenset(op for m, rx, op in compiled if m == method and rx.fullmatch(path))

    return classify


async def _no_operations(_request: Request) -> frozenset[str]:
    return frozenset()


def _over_limit(state: FakeState, now: float) -> bool:
    limit = state.faults.max_per_second
    second, count = state._second
    current = int(now)
    count = count + 1 if current == second else 1
    state._second = (current, count)
    return limit is not None and count > limit


def install(
    app: FastAPI,
    state: FakeState,
    seed: Callable[[int, int], list[dict[str, Any]]],
    operations: Classifier = _no_operations,
) -> None:
    """Add the fault middleware and the control API to a fake provider app. `seed(count, seed)`
    generates that many provider-native offer records; `operations` names a request's logical
    operations (see the module docstring)."""
    app.state.fake = state

    @app.middleware("http")
    async def faults(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        path = request.url.path
        if path.startswith(CONTROL):
            return await call_next(request)
        now = state.now()
        ops = await operations(request)
        state.requests.append(
            {"method": request.method, "path": path, "operations": sorted(ops), "at": now}
        )
        f = state.faults
        if _over_limit(state, now) or f.rate_limit_next > 0:
            f.rate_limit_next = max(0, f.rate_limit_next - 1)
            return Response(
                b'{"error": "too_many_requests", "msg": "API requests too frequent"}',
                status_code=429,
                headers={"Retry-After": f"{f.retry_after:g}"},
                media_type="application/json",
            )
        if _applies(state, path, ops):
            if f.latency_ms:
                await asyncio.sleep(f.latency_ms / 1000)
            if f.fail_all or f.fail_next > 0:
                f.fail_next = max(0, f.fail_next - 1)
                return Response(
                    b'{"error": "internal_error"}',
                    status_code=f.fail_status,
                    media_type="application/json",
                )
            if f.hang_seconds:  # the work is done, the answer comes too late (the risky case)
                response = await call_next(request)
                await asyncio.sleep(f.hang_seconds)
                return response
        return await call_next(request)

    control = APIRouter(prefix=CONTROL)

    @control.get("/faults")
    async def get_faults() -> Faults:
        return state.faults

    @control.post("/faults")
    async def set_faults(request: Request) -> Faults:
        changes = orjson.loads(await request.body() or b"{}")
        state.faults = Faults.model_validate({**state.faults.model_dump(), **changes})
        return state.faults

    @control.post("/reset")
    async def reset() -> dict[str, bool]:
        state.reset()
        return {"ok": True}

    @control.get("/requests")
    async def requests() -> list[dict[str, Any]]:
        return state.requests

    @control.get("/instances")
    async def instances() -> list[dict[str, Any]]:
        now = state.now()
        return [
            {"id": i.id, "state": i.state(now), "external": i.external, **i.attrs}
            for i in state.instances.values()
        ]

    @control.post("/instances")
    async def external_instance(request: Request) -> Response:
        attrs = orjson.loads(await request.body() or b"{}")
        price = attrs.pop("price_per_hour", 0) if isinstance(attrs, dict) else None
        if isinstance(price, bool) or not isinstance(price, int) or price < 0:
            detail = "a JSON object; price_per_hour: a non-negative integer (micro-USD)"
            return Response(orjson.dumps({"error": detail}), 400, media_type="application/json")
        instance = state.create_instance(attrs, external=True, price_per_hour=price)
        body = {"id": instance.id, "state": instance.state(), **instance.attrs}
        return Response(orjson.dumps(body), media_type="application/json")

    @control.get("/clock")
    async def get_clock() -> dict[str, float]:
        return {"now": state.now()}

    @control.post("/clock")
    async def move_clock(move: ClockMove) -> dict[str, float]:
        return {"now": state.advance(move.advance_seconds)}

    @control.get("/billing")
    async def billing() -> list[dict[str, Any]]:
        return state.billing()

    @control.put("/offers")
    async def replace_offers(request: Request) -> dict[str, int]:
        state.offers = list(orjson.loads(await request.body()))
        return {"offers": len(state.offers)}

    @control.post("/offers/generate")
    async def generate(count: int = 100, seed_value: int = 0) -> dict[str, int]:
        state.offers = seed(count, seed_value)
        return {"offers": len(state.offers)}

    app.include_router(control)


@dataclass
class RunningFake:
    url: str
    state: FakeState
    server: uvicorn.Server
    thread: threading.Thread

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def _free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def start(app: FastAPI, host: str = "127.0.0.1", port: int = 0) -> RunningFake:
    """Serve a fake provider app on a real local port, in a background thread."""
    port = port or _free_port(host)
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError(f"fake provider server did not start on {host}:{port}")
        time.sleep(0.01)
    return RunningFake(f"http://{host}:{port}", app.state.fake, server, thread)


@contextmanager
def running(app: FastAPI) -> Iterator[RunningFake]:
    fake = start(app)
    try:
        yield fake
    finally:
        fake.stop()


def max_in_window(times: Iterable[float], window: float = 1.0) -> int:
    """The most requests that fell in any `window`-second span (for rate-limit checks)."""
    ordered = sorted(times)
    best, lo = 0, 0
    for hi, t in enumerate(ordered):
        while t - ordered[lo] >= window:
            lo += 1
        best = max(best, hi - lo + 1)
    return best
