"""The offer query model and its compact language (pure).

    gpu=H100 gpu_count>=8 price_per_gpu_hour<2.5 country in [US,CA] spot=false region~east

Terms are `field op value`, joined by spaces (all must hold). Operators: = != < <= > >= in notin ~
(text contains). Lists are `[a,b]`; values with spaces are quoted. `field=null` / `field!=null`
test for a missing value. `!=` and `notin` also match offers where the field is missing. Errors
name the bad field or value and list the valid fields. The API and the CLI build the same
`OfferQuery`, so they accept exactly the same things.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Union

from gp4u.catalog.normalise import GpuName, canonical_variant, parse_gpu_name
from gp4u.kit.errors import InvalidQuery
from gp4u.kit.money import usd_to_micros
from gp4u.offers.fields import DEFAULT_SORT, FIELD_NAMES, SORTABLE, Case, Field, Kind, resolve

Value = Union[str, int, float, bool, datetime, GpuName, None]  # noqa: UP007 (runtime alias)

OPERATORS = ("=", "!=", "<", "<=", ">", ">=", "in", "notin", "~")
_RANGE_OPS = frozenset({"<", "<=", ">", ">="})
_LIST_OPS = frozenset({"in", "notin"})
_TRUE = frozenset({"true", "yes", "1", "t", "y"})
_FALSE = frozenset({"false", "no", "0", "f", "n"})
_NULL = frozenset({"null", "none"})
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_SYMBOL_OP = re.compile(r"!=|<=|>=|==|=|<|>|~")
_FIELD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_WORD_OP = re.compile(r"(notin|in)(?=[\s\[\"'])", re.IGNORECASE)


@dataclass(frozen=True)
class Condition:
    field: str
    op: str
    values: tuple[Value, ...]


@dataclass(frozen=True)
class OfferQuery:
    """Filters (all must hold), a sort field and direction, a page size and a cursor."""

    conditions: tuple[Condition, ...] = ()
    sort: str = DEFAULT_SORT
    desc: bool = False
    limit: int = 50
    cursor: str | None = None
    text: str = field(default="", compare=False)

    @property
    def mentions_available(self) -> bool:
        return any(c.field == "available" for c in self.conditions)


def _fields_hint() -> dict[str, object]:
    return {"valid_fields": list(FIELD_NAMES)}


class _Scanner:
    """Walks the query text; every error says where it happened."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def skip_space(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def at_end(self) -> bool:
        self.skip_space()
        return self.pos >= len(self.text)

    def fail(self, message: str, **extra: object) -> InvalidQuery:
        return InvalidQuery(f"{message} (at character {self.pos + 1} of the query)", **extra)

    def read_field(self) -> str:
        match = _FIELD.match(self.text, self.pos)
        if not match:
            raise self.fail(
                f"expected a field name at {self.text[self.pos : self.pos + 20]!r}",
                **_fields_hint(),
            )
        self.pos = match.end()
        return match.group(0)

    def read_operator(self, field_name: str) -> str:
        self.skip_space()
        word = _WORD_OP.match(self.text, self.pos)
        if word:
            self.pos = word.end()
            return word.group(1).lower()
        symbol = _SYMBOL_OP.match(self.text, self.pos)
        if not symbol:
            raise self.fail(
                f"expected an operator after {field_name!r}; operators are " + " ".join(OPERATORS),
                field=field_name,
            )
        self.pos = symbol.end()
        return "=" if symbol.group(0) == "==" else symbol.group(0)

    def read_scalar(self, stop: str = "") -> str:
        self.skip_space()
        if self.pos < len(self.text) and self.text[self.pos] in "\"'":
            quote = self.text[self.pos]
            end = self.text.find(quote, self.pos + 1)
            if end < 0:
                raise self.fail("unterminated quoted value")
            value = self.text[self.pos + 1 : end]
            self.pos = end + 1
            return value
        start = self.pos
        while self.pos < len(self.text) and not self.text[self.pos].isspace():
            if self.text[self.pos] in stop:
                break
            self.pos += 1
        if self.pos == start:
            raise self.fail("expected a value")
        value = self.text[start : self.pos]
        if value[0] in "=<>!~":
            raise self.fail(f"expected a value, got {value!r}: one operator per term")
        return value

    def read_list(self) -> list[str]:
        self.skip_space()
        if self.pos >= len(self.text) or self.text[self.pos] != "[":
            raise self.fail("expected a list like [a,b] after in/notin")
        self.pos += 1
        items: list[str] = []
        while True:
            self.skip_space()
            if self.pos < len(self.text) and self.text[self.pos] == "]":
                self.pos += 1
                break
            items.append(self.read_scalar(stop=",]"))
            self.skip_space()
            if self.pos < len(self.text) and self.text[self.pos] == ",":
                self.pos += 1
            elif self.pos >= len(self.text):
                raise self.fail("unterminated list: missing ]")
        if not items:
            raise self.fail("empty list")
        return items


def parse_value(spec: Field, op: str, raw: str) -> Value:
    """Turn one written value into the typed value the SQL compiler binds."""
    text = raw.strip()
    if text.lower() in _NULL:
        if op not in ("=", "!="):
            raise InvalidQuery(
                f"null can only be used with = or != (field {spec.name!r})", field=spec.name
            )
        if not spec.nullable:
            raise InvalidQuery(
                f"field {spec.name!r} is never missing; it cannot be null", field=spec.name
            )
        return None
    kind = spec.kind
    try:
        if kind is Kind.GPU:
            return parse_gpu_name(text) if op != "~" else text.lower()
        if kind is Kind.TEXT:
            return _text_value(spec, op, text)
        if kind is Kind.INT:
            number = Decimal(text)
            if not number.is_finite() or number != number.to_integral_value():
                return _bad(spec, text)
            return _bindable(spec, text, int(number))
        if kind is Kind.MONEY:
            return _bindable(spec, text, usd_to_micros(text.lstrip("$")))
        if kind is Kind.FLOAT:
            number = Decimal(text)
            return float(number) if number.is_finite() else _bad(spec, text)
        if kind is Kind.BOOL:
            lowered = text.lower()
            if lowered in _TRUE:
                return True
            if lowered in _FALSE:
                return False
            return _bad(spec, text)
        if kind is Kind.TIME:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
            return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except (InvalidOperation, ValueError, OverflowError):
        return _bad(spec, text)
    raise AssertionError(kind)  # pragma: no cover


def _text_value(spec: Field, op: str, text: str) -> str:
    if op == "~" or spec.case is Case.AS_IS:
        return text.lower()
    if spec.case is Case.LOWER:
        return text.lower()
    if spec.case is Case.UPPER:
        return text.upper()
    return canonical_variant(text)


def _bindable(spec: Field, text: str, value: int) -> int:
    """A whole number the databases can bind: 64-bit signed, or the query is refused (SQLite
    raises OverflowError on anything larger, asyncpg a DataError)."""
    if not _INT64_MIN <= value <= _INT64_MAX:
        raise InvalidQuery(
            f"value {text!r} for {spec.name!r} is out of range", field=spec.name, value=text
        )
    return value


def _bad(spec: Field, text: str) -> Value:
    expected = {
        Kind.INT: "a whole number",
        Kind.MONEY: "a dollar amount like 2.50",
        Kind.FLOAT: "a number",
        Kind.BOOL: "true or false",
        Kind.TIME: "an ISO 8601 time like 2026-11-01T00:00:00Z",
    }.get(spec.kind, "a value")
    raise InvalidQuery(
        f"bad value {text!r} for {spec.name!r}: expected {expected}", field=spec.name, value=text
    )


def _check_operator(spec: Field, op: str) -> None:
    if op in _RANGE_OPS and not spec.sortable:
        raise InvalidQuery(
            f"operator {op!r} needs a numeric or time field; {spec.name!r} is {spec.kind.value}",
            field=spec.name,
        )
    if op == "~" and not spec.is_text:
        raise InvalidQuery(
            f"operator '~' (contains) needs a text field; {spec.name!r} is {spec.kind.value}",
            field=spec.name,
        )


def parse_conditions(text: str) -> tuple[Condition, ...]:
    """Parse the compact query language into conditions."""
    scanner = _Scanner(text)
    conditions: list[Condition] = []
    while not scanner.at_end():
        written = scanner.read_field()
        spec = resolve(written)
        if spec is None:
            raise InvalidQuery(
                f"unknown field {written!r}; valid fields: {', '.join(FIELD_NAMES)} "
                "(quote values that contain spaces)",
                field=written,
                **_fields_hint(),
            )
        op = scanner.read_operator(spec.name)
        _check_operator(spec, op)
        raw_values = scanner.read_list() if op in _LIST_OPS else [scanner.read_scalar()]
        values = tuple(parse_value(spec, op, raw) for raw in raw_values)
        conditions.append(Condition(spec.name, op, values))
    return tuple(conditions)


def parse_sort(sort: str | None, desc: bool = False) -> tuple[str, bool]:
    """`price_per_gpu_hour`, `-price_per_gpu_hour` (descending) or `field:desc`."""
    if not sort:
        return DEFAULT_SORT, desc
    text = sort.strip()
    if text.startswith("-"):
        text, desc = text[1:], True
    if ":" in text:
        text, direction = text.split(":", 1)
        if direction.lower() not in ("asc", "desc"):
            raise InvalidQuery(f"bad sort direction {direction!r}: use asc or desc", field="sort")
        desc = direction.lower() == "desc"
    spec = resolve(text)
    if spec is None or not spec.sortable:
        raise InvalidQuery(
            f"cannot sort by {text!r}; sortable fields: {', '.join(SORTABLE)}",
            field="sort",
            valid_sort_fields=list(SORTABLE),
        )
    return spec.name, desc


def build_query(
    q: str | None = None,
    *,
    sort: str | None = None,
    desc: bool = False,
    limit: int | None = None,
    cursor: str | None = None,
    default_limit: int = 50,
    max_limit: int = 1000,
) -> OfferQuery:
    """The one entry point shared by the API and the CLI."""
    sort_field, sort_desc = parse_sort(sort, desc)
    if limit is None:
        limit = default_limit
    if limit < 1 or limit > max_limit:
        raise InvalidQuery(
            f"limit must be between 1 and {max_limit}, got {limit}",
            field="limit",
            max_limit=max_limit,
        )
    return OfferQuery(
        conditions=parse_conditions(q or ""),
        sort=sort_field,
        desc=sort_desc,
        limit=limit,
        cursor=cursor or None,
        text=q or "",
    )
