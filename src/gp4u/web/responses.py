"""JSON responses rendered by orjson. Endpoints that return many rows build plain dicts and skip
per-item pydantic validation; their `response_model` still documents the shape in OpenAPI."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import JSONResponse


class FastJSON(JSONResponse):
    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)
