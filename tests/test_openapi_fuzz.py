"""Schemathesis against the app's own OpenAPI document, in-process over ASGI: every documented
operation gets generated requests, valid and invalid, and no answer may be a server error or
differ from its documented response schema.

Bounded and reproducible: the examples and fuzzing phases with at most MAX_EXAMPLES generated
requests per operation, a fixed seed, derandomised Hypothesis and no example database, so CI
sends the same requests every time. The coverage phase (boundary values of every parameter) is
off: it doubles the requests and the run time, and found nothing the fuzzing phase did not.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
import structlog
from fastapi import FastAPI
from schemathesis.checks import not_a_server_error
from schemathesis.python.asgi import shutdown_lifespans
from schemathesis.specs.openapi.checks import response_schema_conformance
from structlog.dev import plain_traceback

from gp4u.app import create_app, openapi_document
from gp4u.db.engine import create_engine, session_factory
from gp4u.fakes import catalog, kit, vastai
from gp4u.kit.clock import FrozenClock
from gp4u.settings import Settings
from tests import factories
from tests.conftest import LANES, T0, empty_postgres

MAX_EXAMPLES = 25
SEED = 20261101
# Streams that end only when the client goes away; a generated request would wait forever.
ENDLESS = ["/api/v1/alerts/stream", "/api/v1/offers/stream"]
TOO_BIG = 2**63  # one past the largest id either database can bind

CONFIG = schemathesis.Config.from_dict(
    {
        "seed": SEED,
        "suppress-health-check": ["all"],
        "generation": {
            "mode": "all",
            "max-examples": MAX_EXAMPLES,
            "deterministic": True,
            "database": "none",
            "no-shrink": True,
        },
        "request-timeout": 10,
        "phases": {"coverage": {"enabled": False}},
    }
)


# pytest needs the operations when it collects the tests.
SCHEMA = schemathesis.openapi.from_dict(openapi_document(), config=CONFIG).exclude(path=ENDLESS)


@pytest.fixture(autouse=True)
def plain_tracebacks() -> Iterator[None]:
    """Log unexpected errors with plain tracebacks while this module runs: structlog's default
    rich traceback with every frame's locals takes seconds per 500, which a fuzz run that finds
    one (or an xfail below) pays on each request."""
    processors = structlog.get_config()["processors"]
    structlog.configure(
        processors=[
            structlog.dev.ConsoleRenderer(colors=False, exception_formatter=plain_traceback)
            if isinstance(p, structlog.dev.ConsoleRenderer)
            else p
            for p in processors
        ]
    )
    yield
    structlog.configure(processors=processors)


@pytest.fixture
def auth_headers() -> dict[str, str]:
    """Headers every generated request carries. None yet: in the default local auth mode the
    app serves every request as the local owner. Override this to send a token once the fuzzed
    app runs with accounts."""
    return {}


@pytest.fixture(scope="module")
def fake_vastai() -> Iterator[kit.RunningFake]:
    with kit.running(vastai.create_app()) as running:
        yield running


@pytest.fixture(scope="module")
def fake_catalogs() -> Iterator[kit.RunningFake]:
    with kit.running(catalog.create_app()) as running:
        yield running


@pytest.fixture(scope="module", params=LANES)
async def fuzz_db(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path
) -> AsyncIterator[str]:
    """One migrated database of each lane for the whole module (as conftest's `db_url` and
    `engine`, but module-scoped: a fresh app per operation would double the run time), with a
    week of prices for a few offers of two providers, so search, compare, history, forecast and
    arbitrage have something to work on."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("fuzz") / "gp4u.sqlite3"
        shutil.copy(sqlite_template, path)
        url = f"sqlite+aiosqlite:///{path}"
    else:
        url = str(request.getfixturevalue("postgres_ready"))
    engine = create_engine(url)
    if url.startswith("postgresql"):
        await empty_postgres(engine)
    sessions = session_factory(engine)
    for days_ago in range(7, -1, -1):
        now = T0 - timedelta(days=days_ago)
        step = 10_000 * days_ago
        await factories.import_offers(
            sessions,
            now,
            factories.offer(instance_type="gpu_1x_h100", price_per_hour=2_490_000 + step),
            factories.offer(
                instance_type="gpu_8x_h100",
                gpu_count=8,
                price_per_hour=19_920_000 - step,
                region="europe-central-1",
                country="DE",
            ),
            factories.offer(
                instance_type="gpu_1x_a100",
                gpu_name="A100-80GB",
                price_per_hour=1_290_000 + step,
                spot=True,
                reliability=None,
            ),
            provider="lambda",
        )
        await factories.import_offers(
            sessions,
            now,
            factories.offer(
                instance_type="h100-sxm", provider="runpod", price_per_hour=2_690_000 - step
            ),
            factories.offer(
                instance_type="rtx4090",
                provider="runpod",
                gpu_name="RTX 4090",
                gpu_memory_gb=24.0,
                price_per_hour=440_000 + step,
            ),
            provider="runpod",
        )
    await engine.dispose()
    yield url


@pytest.fixture(scope="module")
def fuzz_app(
    fuzz_db: str,
    tmp_path_factory: pytest.TempPathFactory,
    fake_vastai: kit.RunningFake,
    fake_catalogs: kit.RunningFake,
) -> Iterator[FastAPI]:
    """The app on the seeded database, with every provider it could call pointed at a local fake
    (no generated request reaches the network). Its lifespan starts with the first generated
    request, in schemathesis' ASGI event loop, and is shut down after the module."""
    settings = Settings(
        env="test",
        data_dir=tmp_path_factory.mktemp("fuzz-data"),
        database_url=fuzz_db,
        migrate_on_start=False,
        simulated_market=False,
        providers="vastai,local",
        vastai_url=fake_vastai.url,
        catalog_url=fake_catalogs.url,
        catalog_providers="lambda",
    )
    try:
        yield create_app(settings, clock=FrozenClock(T0), background_jobs=False)
    finally:
        shutdown_lifespans()


@SCHEMA.parametrize()
def test_no_operation_answers_with_a_server_error(
    case: schemathesis.Case[Any], fuzz_app: FastAPI, auth_headers: dict[str, str]
) -> None:
    case.call_and_validate(
        app=fuzz_app, headers=auth_headers, checks=[not_a_server_error, response_schema_conformance]
    )


@pytest.mark.parametrize(
    ("method", "url"),
    [
        pytest.param("POST", f"/api/v1/alerts/notifications/{TOO_BIG}/read"),
        pytest.param("GET", f"/api/v1/alerts/notifications?after={TOO_BIG}"),
        pytest.param("GET", f"/api/v1/alerts/{TOO_BIG}"),
        pytest.param("DELETE", f"/api/v1/alerts/{TOO_BIG}"),
        pytest.param("GET", f"/api/v1/alerts/{TOO_BIG}/deliveries"),
        pytest.param("GET", f"/api/v1/wallet/payments/{TOO_BIG}"),
        pytest.param("GET", f"/api/v1/wallet/payments?before={TOO_BIG}"),
        pytest.param("GET", f"/api/v1/wallet/transactions?before={TOO_BIG}"),
    ],
)
async def test_numbers_beyond_64_bits_are_never_a_server_error(
    client: httpx.AsyncClient, method: str, url: str
) -> None:
    response = await client.request(method, url)
    assert response.status_code < 500, response.text


@pytest.mark.parametrize(
    ("url", "status"),
    [
        (f"/api/v1/offers/{TOO_BIG}", 404),
        (f"/api/v1/offers/-{TOO_BIG + 1}", 404),
        (f"/api/v1/offers/compare?ids={TOO_BIG},1", 404),
        (f"/api/v1/offers?q=gpu_count>{TOO_BIG}", 400),
        (f"/api/v1/offers/summary?q=price_per_hour<{TOO_BIG}", 400),
    ],
)
async def test_market_ids_and_numbers_beyond_64_bits(
    client: httpx.AsyncClient, url: str, status: int
) -> None:
    """No such offer, or a bad query: they never reach the database driver (found by this
    module: GET /api/v1/offers/{offer_id} answered 500)."""
    response = await client.get(url)
    assert response.status_code == status, response.text
