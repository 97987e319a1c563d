"""Talking to a remote GP4U server over HTTP: one request helper that sends the stored API key
(`Authorization: Bearer …`) and turns every error envelope into one clear `RemoteError`."""

from __future__ import annotations

from typing import Any, Self

from gp4u.cli import credentials
from gp4u.kit.errors import AppError


class RemoteError(AppError):
    """An error envelope returned by a remote GP4U server. `status` is its HTTP status, None
    when no answer came; `maybe_done` says whether the server may have acted anyway (the
    request went out but its answer was lost, or a gateway failed)."""

    def __init__(
        self, detail: str, status: int | None = None, maybe_done: bool = False, **extra: Any
    ) -> None:
        super().__init__(detail, **extra)
        self.status = status
        self.maybe_done = maybe_done or (status is not None and status >= 500)
        self.server_detail = detail  # as the server said it, before any CLI advice


class RemoteClient:
    def __init__(self, api_url: str, credential: str | None = None) -> None:
        self.api_url = api_url.rstrip("/")
        self.credential = credential

    @classmethod
    def for_server(cls, api_url: str) -> Self:
        """A client that authenticates with the key `gp4u login` stored for this server."""
        return cls(api_url, credentials.api_key(api_url))

    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        clean = {k: v for k, v in (params or {}).items() if v not in (None, "")}
        return self.send("GET", path, params=clean)

    def send(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        token: str | None = None,
    ) -> Any:
        """One request; `token` (a login's access token) replaces the stored key."""
        import httpx

        sent = dict(headers or {})
        credential = token or self.credential
        if credential:
            sent["Authorization"] = f"Bearer {credential}"
        try:
            response = httpx.request(
                method,
                f"{self.api_url}{path}",
                params=params,
                json=body,
                headers=sent,
                timeout=30.0,
            )
        except httpx.ConnectError as exc:  # nothing was sent
            raise RemoteError(f"cannot reach GP4U at {self.api_url}: {exc}") from exc
        except httpx.HTTPError as exc:
            raise RemoteError(
                f"no answer from GP4U at {self.api_url}: {exc or type(exc).__name__}",
                maybe_done=True,
            ) from exc
        if response.is_error:
            raise self._error(response.status_code, response.text, credential is not None)
        return response.json() if response.content else None

    def _error(self, status: int, text: str, authenticated: bool) -> RemoteError:
        import json

        try:
            envelope = json.loads(text)
        except ValueError:
            envelope = None
        if not isinstance(envelope, dict):
            return RemoteError(f"HTTP {status}: {text[:200]}", status)
        detail = str(envelope.get("detail", text[:200]))
        extra = {k: v for k, v in envelope.items() if k != "detail"}
        if status == 401:
            login = f"run gp4u login --api {self.api_url}"
            if authenticated:
                detail = f"{self.api_url} refused the stored credentials ({detail}): {login}"
            else:
                detail = f"not logged in to {self.api_url}: {login}"
        error = RemoteError(detail, status, **extra)
        error.server_detail = str(envelope.get("detail", ""))
        return error
