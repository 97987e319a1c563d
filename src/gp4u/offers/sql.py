"""Compiles an `OfferQuery` to parameterised SQL for SQLite or PostgreSQL (pure).

Only whitelisted columns (offers.fields) ever reach the SQL text; every value is a bound
parameter. The result runs through SQLAlchemy in the server and through the standard library's
sqlite3 in the embedded CLI, which is why this is plain SQL text: it keeps a CLI search from
importing SQLAlchemy (see docs/decisions.md).

Semantics, mirrored by the brute-force reference in the tests:
- all conditions must hold; `available=true` is implied unless the query mentions `available`;
- text equality is case-insensitive; `~` is a case-insensitive substring test;
- `!=` and `notin` also match rows where the field is missing; ranges never do;
- rows are ordered by the sort field (missing values last in both directions), then by id in the
  same direction, which makes the order total and keyset pagination stable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum

from gp4u.catalog.normalise import GpuName
from gp4u.kit.clock import ensure_utc, sqlite_text
from gp4u.offers.cursor import Position
from gp4u.offers.fields import FIELDS, OUTPUT_COLUMNS, Case, Kind
from gp4u.offers.query import Condition, OfferQuery


class Dialect(Enum):
    SQLITE = "sqlite"
    POSTGRESQL = "postgresql"


@dataclass
class Compiled:
    sql: str
    params: dict[str, object] = field(default_factory=dict)


class _Params:
    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self.values: dict[str, object] = {}

    def bind(self, value: object) -> str:
        name = f"p{len(self.values)}"
        if isinstance(value, datetime):
            value = _bind_time(value, self.dialect)
        self.values[name] = value
        return f":{name}"


def _bind_time(value: datetime, dialect: Dialect) -> object:
    # SQLite keeps timestamps as UTC text; comparing text to text in that form is exact.
    return sqlite_text(value) if dialect is Dialect.SQLITE else ensure_utc(value)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _gpu_match(name: GpuName, params: _Params) -> str:
    parts = [f"gpu = {params.bind(name.gpu)}"]
    if name.variant is not None:
        parts.append(f"(gpu_variant IS NOT NULL AND gpu_variant = {params.bind(name.variant)})")
    if name.memory_gb is not None:
        parts.append(f"gpu_memory_gb = {params.bind(name.memory_gb)}")
    return "(" + " AND ".join(parts) + ")"


def _gpu_condition(cond: Condition, params: _Params) -> str:
    names = [v for v in cond.values if isinstance(v, GpuName)]
    if all(n.variant is None and n.memory_gb is None for n in names):
        # Plain families: one IN list, which the planner can serve from the gpu index.
        matches = f"gpu IN ({', '.join(params.bind(n.gpu) for n in names)})"
    else:
        matches = " OR ".join(_gpu_match(n, params) for n in names)
    if cond.op in ("=", "in"):
        return f"({matches})"
    return f"(NOT ({matches}))"


def _condition(cond: Condition, params: _Params) -> str:
    spec = FIELDS[cond.field]
    column = cond.field
    if cond.op == "~":
        pattern = "%" + _escape_like(str(cond.values[0])) + "%"
        return f"(lower({column}) LIKE {params.bind(pattern)} ESCAPE '\\')"
    if spec.kind is Kind.GPU:
        return _gpu_condition(cond, params)
    if cond.values == (None,):
        return f"({column} IS NULL)" if cond.op == "=" else f"({column} IS NOT NULL)"

    expr = f"lower({column})" if spec.kind is Kind.TEXT and spec.case is Case.AS_IS else column
    or_missing = f"{column} IS NULL OR " if spec.nullable else ""
    if cond.op in ("in", "notin"):
        bound = ", ".join(params.bind(v) for v in cond.values)
        if cond.op == "in":
            return f"({expr} IN ({bound}))"
        return f"({or_missing}{expr} NOT IN ({bound}))"
    placeholder = params.bind(cond.values[0])
    if cond.op == "!=":
        return f"({or_missing}{expr} != {placeholder})"
    return f"({expr} {cond.op} {placeholder})"


def where_clause(query: OfferQuery, params: _Params) -> str:
    parts = []
    if not query.mentions_available:
        parts.append(f"available = {params.bind(True)}")
    parts.extend(_condition(c, params) for c in query.conditions)
    return " AND ".join(parts) if parts else "1 = 1"


def _after(query: OfferQuery, position: Position, params: _Params) -> str:
    """Rows strictly after `position` in the query's order."""
    column = query.sort
    newer = "<" if query.desc else ">"
    last_id = params.bind(position.id)
    if position.value is None:
        return f"({column} IS NULL AND id {newer} {last_id})"
    value = params.bind(position.value)
    tail = f" OR {column} IS NULL" if FIELDS[column].nullable else ""
    return f"({column} {newer} {value} OR ({column} = {value} AND id {newer} {last_id}){tail})"


def _order_by(query: OfferQuery) -> str:
    direction = "DESC" if query.desc else "ASC"
    nulls = " NULLS LAST" if FIELDS[query.sort].nullable else ""
    return f"{query.sort} {direction}{nulls}, id {direction}"


def compile_search(query: OfferQuery, dialect: Dialect, position: Position | None) -> Compiled:
    """One page of offers: `limit + 1` rows, so the caller knows whether another page follows."""
    params = _Params(dialect)
    where = where_clause(query, params)
    if position is not None:
        where += " AND " + _after(query, position, params)
    sql = (
        f"SELECT {', '.join(OUTPUT_COLUMNS)} FROM offers WHERE {where} "
        f"ORDER BY {_order_by(query)} LIMIT {params.bind(query.limit + 1)}"
    )
    return Compiled(sql, params.values)


SUMMARY_GROUPS = {
    "family": ("gpu",),
    "gpu": ("gpu", "gpu_memory_gb"),
    "variant": ("gpu", "gpu_memory_gb", "gpu_variant"),
}


def compile_summary(query: OfferQuery, dialect: Dialect, by: str) -> tuple[Compiled, Compiled]:
    """Two statements for the group-by-GPU view over the offers a query matches.

    The first returns, per group, the cheapest, the most expensive and the one or two middle
    rows by $/GPU-hour (ranked with a window function, so the median needs no extension); the
    second counts distinct providers per group."""
    group = ", ".join(SUMMARY_GROUPS[by])
    params = _Params(dialect)
    where = where_clause(query, params)
    ranked = (
        f"SELECT {group}, id, provider, price_per_gpu_hour, "
        f"ROW_NUMBER() OVER (PARTITION BY {group} ORDER BY price_per_gpu_hour, id) AS rn, "
        f"COUNT(*) OVER (PARTITION BY {group}) AS n FROM offers WHERE {where}"
    )
    rows = Compiled(
        f"SELECT {group}, rn, n, id, provider, price_per_gpu_hour FROM ({ranked}) ranked "
        "WHERE rn = 1 OR rn = n OR rn = (n + 1) / 2 OR rn = (n + 2) / 2 "
        f"ORDER BY {group}, rn",
        params.values,
    )
    count_params = _Params(dialect)
    count_where = where_clause(query, count_params)
    providers = Compiled(
        f"SELECT {group}, COUNT(DISTINCT provider) FROM offers WHERE {count_where} "
        f"GROUP BY {group}",
        count_params.values,
    )
    return rows, providers
