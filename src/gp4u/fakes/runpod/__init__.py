"""A fake RunPod GraphQL API (`POST /graphql`) for tests and benchmarks.

It parses the operation it is sent (one query or mutation: variables, aliases, arguments, nested
selections; no fragments), checks every selected field against a slice of RunPod's schema and
answers only what was selected, in RunPod's shapes. Supported root fields: `gpuTypes`, `pod`,
`myself { pods }`, `podFindAndDeployOnDemand`, `podRentInterruptable`, `podTerminate`.

Like RunPod: `gpuTypes` needs no key; `pod`, `myself` and mutations answer 401 without a valid key
(`Authorization: Bearer <key>` or the older `?api_key=`), and any request with a wrong key gets
401. Malformed documents and invalid inputs answer 400 with a GraphQL `errors` array; refusals
(no capacity, unknown pod, low bid) answer 200 with `errors` and `"data": null`. A pod whose
desiredStatus is RUNNING has `runtime: null` while it boots; terminated pods are forgotten.

Offer records (`FakeState.offers`) are `gpuTypes` records; the fake-only key `_stock` holds per
cloud what `lowestPrice` reports (`stockStatus`, `maxUnreservedGpuCount`, `minVcpu`, `minMemory`
for one GPU). A record with a literal `lowestPrice` object answers it whatever the input.

Fault restrictions by operation name each root field: `gpuTypes` is `offers`, `pod` `show`,
`myself` `list`, the two deploy mutations `create` and `podTerminate` `destroy`.

The package: `graphql` (schema slice, parser, validation), `inventory` (offers and prices),
`pods` (pod records), `executor` (resolving operations); this module wires the app.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import FastAPI, Request, Response

from gp4u.fakes import kit
from gp4u.fakes.kit import FakeState
from gp4u.fakes.runpod.executor import NO_CAPACITY, Executor, LyingCreate
from gp4u.fakes.runpod.graphql import (
    AUTHENTICATED,
    SCHEMA,
    BadRequest,
    Field,
    FieldError,
    Operation,
    Var,
    parse_operation,
    validate,
)
from gp4u.fakes.runpod.inventory import (
    CATALOGUE,
    CLOUD_TYPES,
    CLOUDS,
    generate_offers,
    lowest_price,
)
from gp4u.fakes.runpod.pods import pod_record

__all__ = [
    "AUTHENTICATED",
    "CATALOGUE",
    "CLOUDS",
    "CLOUD_TYPES",
    "NO_CAPACITY",
    "SCHEMA",
    "BadRequest",
    "Executor",
    "Field",
    "FieldError",
    "LyingCreate",
    "Operation",
    "Var",
    "create_app",
    "generate_offers",
    "lowest_price",
    "parse_operation",
    "pod_record",
    "validate",
]


def _errors(message: str, code: str, path: list[str] | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"message": message, "extensions": {"code": code}}
    if path:
        error["path"] = path
    return {"errors": [error], "data": None}


def _key(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return request.query_params.get("api_key")


def _needs_key(operation: Operation) -> bool:
    return operation.kind == "mutation" or any(
        root.name in AUTHENTICATED for root in operation.selections
    )


_OPERATIONS = {
    "gpuTypes": "offers",
    "pod": "show",
    "myself": "list",
    "podFindAndDeployOnDemand": "create",
    "podRentInterruptable": "create",
    "podTerminate": "destroy",
}


async def operations(request: Request) -> frozenset[str]:
    """The logical operations of a GraphQL request: one per root field it selects."""
    if request.method != "POST" or request.url.path != "/graphql":
        return frozenset()
    try:
        body = orjson.loads(await request.body())
        query = body.get("query") if isinstance(body, dict) else None
        roots = parse_operation(query).selections if isinstance(query, str) else []
    except (orjson.JSONDecodeError, BadRequest):
        return frozenset()
    return frozenset(_OPERATIONS[r.name] for r in roots if r.name in _OPERATIONS)


def create_app(state: FakeState | None = None) -> FastAPI:
    state = state or FakeState()
    app = FastAPI(title="Fake RunPod GraphQL API")
    kit.install(app, state, generate_offers, operations)

    @app.post("/graphql")
    async def graphql(request: Request) -> Response:
        try:
            body = orjson.loads(await request.body())
        except orjson.JSONDecodeError:
            return kit.json_response(state, _errors("POST body is not JSON.", "BAD_REQUEST"), 400)
        query = body.get("query") if isinstance(body, dict) else None
        variables = body.get("variables") if isinstance(body, dict) else None
        if not isinstance(query, str) or not query.strip():
            return kit.json_response(
                state, _errors("POST body missing a GraphQL query.", "BAD_REQUEST"), 400
            )
        key = _key(request)
        if key is not None and key != state.api_key:
            return _unauthorized(state)
        try:
            operation = parse_operation(query)
            validate(Executor.root_type(operation), operation.selections)
            variables = _variables(operation, variables)
        except BadRequest as exc:
            return kit.json_response(state, _errors(exc.message, exc.code), 400)
        if key is None and _needs_key(operation):
            return _unauthorized(state)
        return _execute(state, operation, variables)

    return app


def _variables(operation: Operation, given: Any) -> dict[str, Any]:
    given = given if isinstance(given, dict) else {}
    values = {}
    for name, (type_name, default) in operation.variables.items():
        value = given.get(name, default)
        if value is None and type_name.endswith("!"):
            raise BadRequest(
                f'Variable "${name}" of required type "{type_name}" was not provided.',
                "BAD_USER_INPUT",
            )
        values[name] = value
    return values


def _execute(state: FakeState, operation: Operation, variables: dict[str, Any]) -> Response:
    try:
        data = Executor(state, variables).run(operation)
    except BadRequest as exc:
        return kit.json_response(state, _errors(exc.message, exc.code), 400)
    except FieldError as exc:
        path = [operation.selections[0].key]
        return kit.json_response(state, _errors(exc.message, exc.code, path))
    except LyingCreate:
        return kit.json_response(state, _errors("Something went wrong.", "INTERNAL"), 500)
    return kit.json_response(state, {"data": data})


def _unauthorized(state: FakeState) -> Response:
    return kit.json_response(
        state, _errors("Unauthorized request, please check your API key.", "UNAUTHENTICATED"), 401
    )
