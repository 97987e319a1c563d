"""A generic JSON API with the kit's fault switches, for testing and measuring the gateway
itself: `GET /items`, `POST /create` (makes an instance), `GET /secret` (bearer auth) and
`GET /missing` (a 404 in a provider-like error body)."""

from __future__ import annotations

from fastapi import FastAPI, Request, Response

from gp4u.fakes import kit


def create_app(state: kit.FakeState | None = None) -> FastAPI:
    state = state or kit.FakeState()
    app = FastAPI(title="generic fake provider")
    kit.install(app, state, lambda count, seed: [])

    @app.get("/items")
    async def items() -> Response:
        return kit.json_response(state, {"items": [1, 2, 3]})

    @app.post("/create")
    async def create(request: Request) -> Response:
        state.create_instance({"body": (await request.body()).decode()})
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
