"""Money as exact integers: micro-USD (1 USD = 1,000,000) end to end, dollars only at the edge."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

MICROS_PER_USD = 1_000_000
_PLAIN = re.compile(r"^\s*(\d{1,12})(?:\.(\d{0,6}))?\s*$")
_MICRO = Decimal("0.000001")


def usd_to_micros(value: str | int | float | Decimal) -> int:
    """Convert a dollar amount to micro-USD, rounding half up once.

    Floats go through their shortest decimal repr, so 0.36979999999999996 (a real catalog value)
    becomes 369,800 micro-USD rather than inheriting binary noise.
    """
    if isinstance(value, str):
        match = _PLAIN.match(value)
        if match:  # the common case, exact in integers: "2.49", "31.92", "0.4"
            whole, fraction = match.group(1), match.group(2) or ""
            return int(whole) * MICROS_PER_USD + int(fraction.ljust(6, "0") or 0)
    try:
        amount = Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise ValueError(f"not a number: {value!r}") from exc
    if not amount.is_finite():
        raise ValueError(f"not a finite amount: {value!r}")
    try:
        return int((amount * MICROS_PER_USD).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    except InvalidOperation as exc:  # more digits than the decimal context holds
        raise ValueError(f"amount too large: {value!r}") from exc


def micros_to_usd(micros: int) -> float:
    """Dollars for display and JSON. Exact below $10^9: a decimal of at most 15 significant
    digits survives the round trip through a double, so its shortest repr is that decimal."""
    return micros / MICROS_PER_USD


def divide_micros(total: int, parts: int) -> int:
    """Split an amount into `parts` equal shares, rounded half up to the micro-dollar."""
    if parts <= 0:
        raise ValueError("parts must be positive")
    quotient, remainder = divmod(total, parts)
    return quotient + (1 if remainder * 2 >= parts else 0)


def format_usd(micros: int, places: int = 2) -> str:
    """Human-readable dollars, e.g. `$2.49`; keeps extra digits only when they are not zero."""
    amount = (Decimal(micros) * _MICRO).normalize()
    exponent = amount.as_tuple().exponent
    digits = max(places, -exponent if isinstance(exponent, int) else places)
    return f"${amount:,.{digits}f}"
