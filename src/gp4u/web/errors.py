"""One JSON error envelope for every failure: {"error": "<Name>", "detail": "...", ...}."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException as StarletteHTTPException

from gp4u.kit.errors import AppError
from gp4u.kit.logging import get_logger
from gp4u.web.responses import FastJSON

log = get_logger(__name__)


class ErrorOut(BaseModel):
    """Every error response: a machine-readable name and a sentence for humans, plus fields
    such as `field` or `valid_fields` where they help."""

    model_config = ConfigDict(extra="allow")

    error: str
    detail: str


class FieldError(BaseModel):
    loc: str
    message: str


class ValidationErrorOut(BaseModel):
    """A request body that does not validate (422): every bad field, by location."""

    error: str
    detail: str
    fields: list[FieldError]


def document_error_envelope(schema: dict[str, Any]) -> dict[str, Any]:
    """Make the OpenAPI document describe the 422 body the app really sends (FastAPI documents
    its own default shape, which the envelope replaces)."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    if "HTTPValidationError" in components:
        envelope = ValidationErrorOut.model_json_schema(ref_template="#/components/schemas/{model}")
        for name, definition in envelope.pop("$defs", {}).items():
            components[name] = definition
        components["HTTPValidationError"] = envelope
    return schema


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorOut, "description": "Bad query: names the bad field or value."},
    404: {"model": ErrorOut, "description": "Not found."},
}
# Routes that need a login add these (local mode answers them without credentials).
AUTH_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "No valid access token or API key."},
    403: {"model": ErrorOut, "description": "Authenticated, but not allowed to do this."},
}


async def _app_error(_request: Request, exc: Exception) -> FastJSON:
    assert isinstance(exc, AppError)
    return FastJSON(exc.envelope(), status_code=exc.status_code, headers=exc.headers or None)


async def _validation_error(_request: Request, exc: Exception) -> FastJSON:
    assert isinstance(exc, RequestValidationError)
    fields = [
        {"loc": ".".join(str(p) for p in err.get("loc", ())), "message": err.get("msg", "")}
        for err in exc.errors()
    ]
    detail = "; ".join(f"{f['loc']}: {f['message']}" for f in fields) or "invalid request"
    in_body = any(err.get("loc", ("",))[0] == "body" for err in exc.errors())
    if not in_body:  # 422 is for payloads; a bad query string or path is a bad query
        field = str(exc.errors()[0].get("loc", ("", ""))[-1]) if exc.errors() else ""
        return FastJSON(
            {"error": "InvalidQuery", "detail": detail, "field": field, "fields": fields},
            status_code=400,
        )
    return FastJSON(
        {"error": "ValidationError", "detail": detail, "fields": fields}, status_code=422
    )


async def _http_error(_request: Request, exc: Exception) -> FastJSON:
    assert isinstance(exc, StarletteHTTPException)
    name = {404: "NotFound", 405: "MethodNotAllowed", 413: "PayloadTooLarge"}.get(
        exc.status_code, "HTTPError"
    )
    return FastJSON(
        {"error": name, "detail": str(exc.detail)},
        status_code=exc.status_code,
        headers=getattr(exc, "headers", None),
    )


async def _unexpected(_request: Request, exc: Exception) -> FastJSON:
    log.exception("unhandled error", error=type(exc).__name__)
    return FastJSON(
        {"error": "InternalError", "detail": "an unexpected error occurred; see the server log"},
        status_code=500,
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
