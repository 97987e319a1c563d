"""Typed business errors. Each carries its HTTP status; one handler renders them all as the
same JSON envelope: {"error": "<Name>", "detail": "...", ...extra}."""

from __future__ import annotations

from typing import Any, ClassVar


class AppError(Exception):
    """Base of every error a user may see. `extra` is merged into the error envelope."""

    status_code: ClassVar[int] = 400

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra

    @property
    def name(self) -> str:
        return type(self).__name__

    def envelope(self) -> dict[str, Any]:
        return {"error": self.name, "detail": self.detail, **self.extra}

    @property
    def headers(self) -> dict[str, str]:
        """Response headers the error implies (WWW-Authenticate, Retry-After…)."""
        if self.status_code == 401:
            return {"WWW-Authenticate": "Bearer"}
        return {}


class NotAuthenticated(AppError):
    """No valid credentials (401, with WWW-Authenticate)."""

    status_code = 401


class Forbidden(AppError):
    """Authenticated, but not allowed to do this."""

    status_code = 403


class NotFound(AppError):
    status_code = 404


class InvalidQuery(AppError):
    """A search query, sort, limit or cursor that cannot be understood. Names the bad field."""

    status_code = 400


class InvalidInput(AppError):
    """Input that is well-formed but unusable (an empty catalog, an unknown format...)."""

    status_code = 400


class Conflict(AppError):
    status_code = 409


class ServiceUnavailable(AppError):
    status_code = 503


class TooManyRequests(AppError):
    """Slow down: `retry_after_seconds` is sent as the Retry-After header too."""

    status_code = 429

    def __init__(self, detail: str, retry_after_seconds: int) -> None:
        super().__init__(detail, retry_after_seconds=retry_after_seconds)

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.extra["retry_after_seconds"])}
