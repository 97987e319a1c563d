"""Keyset pages: fetch `limit + 1` rows, show `limit`, and hand back the last shown row's key
when more follow (the client passes it as `before`/`after` for the next page)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

Row = TypeVar("Row")


def keyset_page(
    rows: Sequence[Row], limit: int, key: Callable[[Row], Any]
) -> tuple[list[Row], Any | None]:
    """(the page, the key to continue from, or None on the last page)."""
    page = list(rows[:limit])
    return page, key(page[-1]) if len(rows) > limit and page else None
