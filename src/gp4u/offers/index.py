"""The in-memory search index of the market (pure: numpy, no I/O).

Every offer's searchable fields as columns: numbers as float64 (NaN for missing; integers and
micro-dollars are exact below 2^53), text as integer codes into a table of distinct values,
booleans as bool arrays. A query is a vectorised mask plus a partial sort, so a search costs a
few milliseconds at 100k offers whatever it filters or sorts on. The semantics are exactly those
of `sql.py` (and of the brute-force reference in the tests): all conditions hold; available only
unless the query mentions `available`; text compared case-insensitively; `!=` and `notin` match
missing values; the sort puts missing values last and breaks ties by id in the same direction.

The index returns offer ids in order; the caller reads those rows from the database.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt

from gp4u.catalog.normalise import GpuName
from gp4u.kit.clock import ensure_utc
from gp4u.kit.money import divide_micros
from gp4u.offers.cursor import Position
from gp4u.offers.fields import FIELD_NAMES, FIELDS, Case, Kind
from gp4u.offers.query import Condition, OfferQuery

# The columns the index keeps, in the order `load` rows carry them (after id and version).
INDEX_COLUMNS: tuple[str, ...] = tuple(name for name in FIELD_NAMES if name != "id")
_TEXT = tuple(c for c in INDEX_COLUMNS if FIELDS[c].is_text)
_BOOL = tuple(c for c in INDEX_COLUMNS if FIELDS[c].kind is Kind.BOOL)
_NUMBER = tuple(c for c in INDEX_COLUMNS if c not in _TEXT and c not in _BOOL)
_POSITION = {name: i for i, name in enumerate(INDEX_COLUMNS)}

_RANGES = {"<": np.less, "<=": np.less_equal, ">": np.greater, ">=": np.greater_equal}

Floats = npt.NDArray[np.float64]
Codes = npt.NDArray[np.int32]
Mask = npt.NDArray[np.bool_]


def _number(value: Any) -> float:
    """A comparable float: timestamps become UTC epoch microseconds (exact in a float64)."""
    if value is None:
        return np.nan
    if isinstance(value, datetime):
        return ensure_utc(value).timestamp() * 1_000_000
    if isinstance(value, str):  # SQLite returns timestamps as naive UTC text
        return ensure_utc(datetime.fromisoformat(value)).timestamp() * 1_000_000
    return float(value)


def _column(values: Sequence[Any], name: str) -> Floats:
    if FIELDS[name].kind is Kind.TIME:
        return np.fromiter((_number(v) for v in values), dtype=np.float64, count=len(values))
    return np.array([np.nan if v is None else v for v in values], dtype=np.float64)


def _folded(field: str, value: str) -> str:
    """Free-text fields are compared lower-cased; normalised fields as stored."""
    return value.lower() if FIELDS[field].case is Case.AS_IS else value


class _Strings:
    """Distinct values of one text column and their codes (-1 = missing)."""

    def __init__(self) -> None:
        self.values: list[str] = []
        self.codes: dict[str, int] = {}
        self.lowered: list[str] = []

    def code(self, value: str | None) -> int:
        if value is None:
            return -1
        found = self.codes.get(value)
        if found is None:
            found = self.codes[value] = len(self.values)
            self.values.append(value)
            self.lowered.append(value.lower())
        return found

    def codes_of(self, values: Sequence[Any]) -> list[int]:
        return [c for c in (self.codes.get(v) for v in values if v is not None) if c is not None]

    def containing(self, needle: str) -> list[int]:
        return [i for i, text in enumerate(self.lowered) if needle in text]


class MarketIndex:
    """Columns of every offer, appendable and updatable in place by offer id."""

    def __init__(self) -> None:
        self.version = 0
        self.size = 0
        self.ids = np.zeros(0, dtype=np.int64)
        self.slot_of: dict[int, int] = {}
        self.numbers: dict[str, Floats] = {c: np.zeros(0) for c in ("id", *_NUMBER)}
        self.bools: dict[str, Mask] = {c: np.zeros(0, dtype=bool) for c in _BOOL}
        self.texts: dict[str, Codes] = {c: np.zeros(0, dtype=np.int32) for c in _TEXT}
        self.strings: dict[str, _Strings] = {c: _Strings() for c in _TEXT}

    # ---- loading ----

    def copy(self) -> MarketIndex:
        """An independent copy, to be brought up to date off the event loop and swapped in."""
        twin = MarketIndex()
        twin.version, twin.size = self.version, self.size
        twin.ids = self.ids.copy()
        twin.slot_of = dict(self.slot_of)
        twin.numbers = {k: v.copy() for k, v in self.numbers.items()}
        twin.bools = {k: v.copy() for k, v in self.bools.items()}
        twin.texts = {k: v.copy() for k, v in self.texts.items()}
        for name, table in self.strings.items():
            clone = twin.strings[name]
            clone.values, clone.codes, clone.lowered = (
                list(table.values),
                dict(table.codes),
                list(table.lowered),
            )
        return twin

    def subset(self, slots: npt.NDArray[np.intp]) -> MarketIndex:
        """A read-only index of some of these offers (sharing the text code tables), to run
        many queries that all concern one part of the market."""
        part = MarketIndex()
        part.version, part.size = self.version, int(slots.size)
        part.ids = self.ids[slots]
        part.numbers = {k: v[slots] for k, v in self.numbers.items()}
        part.bools = {k: v[slots] for k, v in self.bools.items()}
        part.texts = {k: v[slots] for k, v in self.texts.items()}
        part.strings = self.strings
        return part

    def apply(self, rows: Sequence[Sequence[Any]], version: int) -> None:
        """Add or replace offers. Each row is (id, *INDEX_COLUMNS)."""
        fresh: list[Sequence[Any]] = []
        for row in rows:
            slot = self.slot_of.get(int(row[0]))
            if slot is None:
                fresh.append(row)
            else:
                self._write(slot, row)
        if fresh:
            self._append(fresh)
        self.version = max(self.version, version)

    def _write(self, slot: int, row: Sequence[Any]) -> None:
        for name in _NUMBER:
            self.numbers[name][slot] = _number(row[1 + _POSITION[name]])
        for name in _BOOL:
            self.bools[name][slot] = bool(row[1 + _POSITION[name]])
        for name in _TEXT:
            value = row[1 + _POSITION[name]]
            self.texts[name][slot] = self.strings[name].code(
                None if value is None else _folded(name, value)
            )

    def _append(self, rows: Sequence[Sequence[Any]]) -> None:
        start = self.size
        ids = np.fromiter((int(r[0]) for r in rows), dtype=np.int64, count=len(rows))
        self.ids = np.concatenate([self.ids, ids])
        self.numbers["id"] = np.concatenate([self.numbers["id"], ids.astype(np.float64)])
        for offset, offer_id in enumerate(ids.tolist()):
            self.slot_of[offer_id] = start + offset
        columns = list(zip(*rows, strict=True))
        for name in _NUMBER:
            values = _column(columns[1 + _POSITION[name]], name)
            self.numbers[name] = np.concatenate([self.numbers[name], values])
        for name in _BOOL:
            values = np.fromiter(
                (bool(v) for v in columns[1 + _POSITION[name]]), dtype=bool, count=len(rows)
            )
            self.bools[name] = np.concatenate([self.bools[name], values])
        for name in _TEXT:
            table = self.strings[name]
            codes = np.fromiter(
                (
                    table.code(None if v is None else _folded(name, v))
                    for v in columns[1 + _POSITION[name]]
                ),
                dtype=np.int32,
                count=len(rows),
            )
            self.texts[name] = np.concatenate([self.texts[name], codes])
        self.size += len(rows)

    # ---- searching ----

    def _text_condition(self, cond: Condition) -> Mask:
        codes = self.texts[cond.field]
        table = self.strings[cond.field]
        if cond.op == "~":
            return np.isin(codes, table.containing(str(cond.values[0])))
        if cond.values == (None,):
            missing: Mask = np.equal(codes, -1)
            return missing if cond.op == "=" else ~missing
        hit = np.isin(codes, table.codes_of(cond.values))
        return hit if cond.op in ("=", "in") else ~hit

    def _gpu_condition(self, cond: Condition) -> Mask:
        if cond.op == "~":
            return self._text_condition(cond)
        hit = np.zeros(self.size, dtype=bool)
        gpus, variants = self.texts["gpu"], self.texts["gpu_variant"]
        for name in cond.values:
            assert isinstance(name, GpuName)
            code = self.strings["gpu"].codes.get(name.gpu)
            if code is None:
                continue
            one = gpus == code
            if name.variant is not None:
                variant = self.strings["gpu_variant"].codes.get(name.variant, -2)
                one &= variants == variant
            if name.memory_gb is not None:
                one &= self.numbers["gpu_memory_gb"] == name.memory_gb
            hit |= one
        return hit if cond.op in ("=", "in") else ~hit

    def _number_condition(self, cond: Condition) -> Mask:
        column = self.numbers[cond.field]
        if cond.values == (None,):
            return np.isnan(column) if cond.op == "=" else ~np.isnan(column)
        values = np.array([_number(v) for v in cond.values])
        if cond.op in ("=", "in"):
            return np.isin(column, values)
        if cond.op in ("!=", "notin"):
            return ~np.isin(column, values)  # NaN is in no list, so missing values match
        with np.errstate(invalid="ignore"):  # NaN (missing) never satisfies a range
            result: Mask = _RANGES[cond.op](column, values[0])
        return result

    def _condition(self, cond: Condition) -> Mask:
        kind = FIELDS[cond.field].kind
        if kind is Kind.GPU:
            return self._gpu_condition(cond)
        if cond.field in self.texts:
            return self._text_condition(cond)
        if kind is Kind.BOOL:
            hit = np.isin(self.bools[cond.field], [bool(v) for v in cond.values])
            return hit if cond.op in ("=", "in") else ~hit
        return self._number_condition(cond)

    def matching(self, query: OfferQuery) -> Mask:
        """Which offers the query's conditions select (available only unless it asks)."""
        return self._matching(query)

    def _matching(self, query: OfferQuery) -> Mask:
        mask = np.ones(self.size, dtype=bool)
        if not query.mentions_available:
            mask &= self.bools["available"]
        for cond in query.conditions:
            mask &= self._condition(cond)
        return mask

    def search(self, query: OfferQuery, after: Position | None) -> list[int]:
        """Ids of the first `limit + 1` matching offers after `after`, in the query's order."""
        mask = self._matching(query)
        values = self.numbers[query.sort]
        ids = self.ids
        # Order key: missing values last in both directions, then value, then id; descending
        # sorts negate both, which keeps "missing last" because the null flag stays first.
        missing = np.isnan(values)
        sign = -1.0 if query.desc else 1.0
        if after is not None:
            mask &= _after(values, missing, ids, after, query.desc)
        slots = np.flatnonzero(mask)
        if slots.size == 0:
            return []
        want = query.limit + 1
        keys = np.where(missing[slots], np.inf, values[slots] * sign)
        if slots.size > want * 4:
            boundary = np.partition(keys, want - 1)[want - 1]
            near = keys <= boundary
            slots, keys = slots[near], keys[near]
        order = np.lexsort((ids[slots] * sign, keys))
        return [int(i) for i in ids[slots[order[:want]]]]

    def summarize(self, query: OfferQuery, group_by: Sequence[str]) -> list[dict[str, Any]]:
        """Per group of the matching offers (by `gpu`, `gpu_memory_gb`, `gpu_variant`): offers,
        distinct providers, min / median / max $/GPU-hour in micro-USD and the cheapest offer
        (ties: lowest id), in the shape `embedded.finish_groups` completes."""
        slots = np.flatnonzero(self._matching(query))
        if slots.size == 0:
            return []
        parts = [self._group_part(name, slots) for name in group_by]
        price = self.numbers["price_per_gpu_hour"][slots]
        ids = self.ids[slots]
        order = np.lexsort((ids, price, *reversed(parts)))
        parts = [p[order] for p in parts]
        price, ids, slots = price[order], ids[order], slots[order]
        starts = np.flatnonzero(np.r_[True, np.any([p[1:] != p[:-1] for p in parts], axis=0)])
        ends = np.r_[starts[1:], slots.size]
        providers = self.texts["provider"][slots]
        result = []
        for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
            count = end - start
            middle = int(price[start + (count - 1) // 2]) + int(price[start + count // 2])
            median = divide_micros(middle, 2)  # the middle offer, or the mean of the middle two
            item = {name: self._group_value(name, slots[start]) for name in group_by}
            item.update(
                offers=count,
                providers=int(np.unique(providers[start:end]).size),
                min_price_per_gpu_hour=int(price[start]),
                median_price_per_gpu_hour=median,
                max_price_per_gpu_hour=int(price[end - 1]),
                cheapest_offer_id=int(ids[start]),
                cheapest_provider=self.strings["provider"].values[providers[start]],
            )
            result.append(item)
        return result

    def _group_part(self, name: str, slots: npt.NDArray[np.intp]) -> npt.NDArray[Any]:
        return self.texts[name][slots] if name in self.texts else self.numbers[name][slots]

    def _group_value(self, name: str, slot: int) -> Any:
        if name in self.texts:
            code = int(self.texts[name][slot])
            return None if code < 0 else self.strings[name].values[code]
        return int(self.numbers[name][slot])


def _after(
    values: Floats, missing: Mask, ids: npt.NDArray[np.int64], position: Position, desc: bool
) -> Mask:
    """Rows strictly after the cursor position in (missing last, value, id) order."""
    last_id = position.id
    if position.value is None:
        return missing & ((ids < last_id) if desc else (ids > last_id))
    value = _number(position.value)
    with np.errstate(invalid="ignore"):
        if desc:
            beyond = (values < value) | ((values == value) & (ids < last_id))
        else:
            beyond = (values > value) | ((values == value) & (ids > last_id))
    result: Mask = beyond | missing
    return result
