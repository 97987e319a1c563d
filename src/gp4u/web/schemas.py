"""Base classes of request bodies: unknown fields are refused, so a client cannot slip in
owner, status, price or balance fields that the server sets itself."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class RequestModel(BaseModel):
    model_config = ConfigDict(extra="forbid")
