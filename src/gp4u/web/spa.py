"""Serving the built web UI (web/dist, made by `make web`) from `gp4u serve`, on the API's port.

Files in the build are served as they are: hashed assets under /assets for a year (their names
change when they do), everything else revalidated. Any other path outside /api is one of the
UI's own routes and gets index.html, so a reloaded or shared link such as /account opens the
right page. /api paths never fall back to the UI: an unknown one stays a JSON 404. Without a
build, the UI's paths answer a short page that says how to make one.

It is one route after all others, but not an API route: like a static-files mount it has no
methods list, no endpoint and no place in the OpenAPI document, and it serves only the build's
files, never data. The build directory is read at request time from `app.state.web_dist`, so a
build made while the server runs is picked up; tests point it elsewhere.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.responses import FileResponse, HTMLResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.routing import BaseRoute, Match, NoMatchFound
from starlette.types import Receive, Scope, Send

# src/gp4u/web/spa.py -> the repository's web/dist
DEFAULT_DIST = Path(__file__).resolve().parents[3] / "web" / "dist"
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
# Paths the server owns: never answered with the UI, so their 404s (and FastAPI's trailing-slash
# redirects) stay what they were.
SERVER_PREFIXES = ("api", "healthz", "readyz", "metrics")

NOT_BUILT = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>GP4U: web UI not built</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto">
<h1>GP4U is running, but its web UI is not built</h1>
<p>Build it with <code>make web</code> (or run the server with <code>make run</code>, which builds
it first), then reload this page.</p>
<p>The API works without it: see <a href="/api/docs">/api/docs</a>.</p>
</body>
</html>
"""


# Any path but the server's own (/api/…, /healthz, /readyz, /metrics).
UI_PATH = re.compile(r"/(?!(?:" + "|".join(SERVER_PREFIXES) + r")(?:/|$)).*")


def _inside(root: Path, relative: str) -> Path | None:
    """The file `relative` names under `root`, or None (missing, a directory, or outside it)."""
    if not relative or "\x00" in relative:
        return None
    try:
        candidate = (root / relative).resolve()
    except (OSError, ValueError):
        return None
    if not candidate.is_relative_to(root) or not candidate.is_file():
        return None
    return candidate


def ui_response(dist: Path, path: str) -> Response:
    """What the UI's route answers for `path` (no leading slash) with the build in `dist`."""
    dist = dist.resolve()
    index = dist / "index.html"
    if not index.is_file():
        return HTMLResponse(NOT_BUILT, headers={"Cache-Control": REVALIDATE})
    found = _inside(dist, path)
    if found is not None:
        cache = IMMUTABLE if path.startswith("assets/") else REVALIDATE
        return FileResponse(found, headers={"Cache-Control": cache})
    if path.startswith("assets/"):
        # A missing script or stylesheet must not come back as HTML.
        raise HTTPException(status_code=404, detail="Not Found")
    return FileResponse(index, media_type="text/html", headers={"Cache-Control": REVALIDATE})


class UiRoute(BaseRoute):
    """GET and HEAD of every path outside the server's prefixes: the UI's files or index.html."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if (
            scope["type"] == "http"
            and scope["method"] in ("GET", "HEAD")
            and UI_PATH.fullmatch(scope["path"])
        ):
            return Match.FULL, {}
        return Match.NONE, {}

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        dist: Path = scope["app"].state.web_dist
        # A few stat calls: off the event loop, like the file reads FileResponse does.
        response = await run_in_threadpool(ui_response, dist, scope["path"].lstrip("/"))
        await response(scope, receive, send)

    def url_path_for(self, name: str, /, **path_params: Any) -> Any:
        raise NoMatchFound(name, path_params)


def install_spa(app: FastAPI, dist: Path = DEFAULT_DIST) -> None:
    """Serve the UI from `dist` at /. Call it after every other route is added."""
    app.state.web_dist = dist
    app.router.routes.append(UiRoute())


__all__ = ["DEFAULT_DIST", "install_spa", "ui_response"]
