"""A generic JSON API with the kit's fault switches, for testing and measuring the gateway
itself: `GET /items`, `POST /create` (makes an instance), `GET /secret` (bearer auth) and
`GET /missing` (a 404 in a provider-like error body). A created instance's JSON body may give
its `price_per_hour` in micro-USD (billed, default 0)."""

from __future__ import annotations

import orjson
from fastapi import FastAPI, Request, Response

from gp4u.fakes import kit


def create_app(state: kit.FakeState | None = None) -> FastAPI:
    state = state or kit.FakeState()
    app = FastAPI(title="generic fake provider")
    operations = kit.routes(("GET", "/items", "list"), ("POST", "/create", "create"))
    kit.install(app, state, lambda count, seed: [], operations)

    @app.get("/items")
    async def items() -> Response:
        return kit.json_response(state, {"items": [1, 2, 3]})

    @app.post("/create")
    async def create(request: Request) -> Response:
        body = await request.body()
        state.create_instance({"body": body.decode()}, price_per_hour=_price(body))
        if state.faults.lying_create:
            return kit.json_response(state, {"error": "internal"}, 500)
        return kit.json_response(state, {"ok": True}, 201)

    @app.get("/secret")
    async def secret(request: Request) -> Response:
        if not kit.bearer_ok(request, state):
            return kit.json_response(state, {"error": "unauthorized"}, 401)
        return kit.json_response(state, {"ok": True})

    @app.get("/missing")
    async def missing() -> Response:
        return kit.json_response(state, {"error": "no_such_thing", "msg": "gone"}, 404)

    return app


def _price(body: bytes) -> int:
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return 0
    price = data.get("price_per_hour") if isinstance(data, dict) else None
    return price if isinstance(price, int) and not isinstance(price, bool) and price > 0 else 0
