"""Opaque keyset cursors (pure): the last row's sort value and id, bound to the query they came
from so a cursor is never applied to a different search."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import datetime

import orjson

from gp4u.kit.clock import ensure_utc
from gp4u.kit.errors import InvalidQuery
from gp4u.offers.fields import FIELDS, Kind
from gp4u.offers.query import OfferQuery


@dataclass(frozen=True)
class Position:
    """Where the previous page ended: its last row's sort value and id."""

    value: int | float | datetime | None
    id: int


def fingerprint(query: OfferQuery) -> str:
    material = repr((query.conditions, query.sort, query.desc)).encode()
    return hashlib.blake2b(material, digest_size=8).hexdigest()


def encode(query: OfferQuery, position: Position) -> str:
    value = position.value.isoformat() if isinstance(position.value, datetime) else position.value
    payload = orjson.dumps({"f": fingerprint(query), "v": value, "i": position.id})
    return base64.urlsafe_b64encode(payload).rstrip(b"=").decode()


def decode(query: OfferQuery) -> Position | None:
    """The position a query's cursor points at, or None for the first page."""
    if not query.cursor:
        return None
    try:
        padded = query.cursor + "=" * (-len(query.cursor) % 4)
        payload = orjson.loads(base64.urlsafe_b64decode(padded.encode()))
        mark, value, row_id = payload["f"], payload["v"], int(payload["i"])
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidQuery("malformed cursor", field="cursor") from exc
    if mark != fingerprint(query):
        raise InvalidQuery(
            "this cursor belongs to a different query or sort; start again without it",
            field="cursor",
        )
    if value is not None and FIELDS[query.sort].kind is Kind.TIME:
        value = ensure_utc(datetime.fromisoformat(value))
    if value is not None and not isinstance(value, int | float | datetime):
        raise InvalidQuery("malformed cursor", field="cursor")
    return Position(value=value, id=row_id)
