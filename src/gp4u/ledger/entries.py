"""The shapes of money movements (pure): each is a list of legs (account kind, owner, signed
amount in micro-USD) that sums to zero, and the hold state machine.

Platform revenue is a house account: it has no cached balance row (every capture credits it, and
one hot row would serialise them all), but it may not go negative in aggregate. Only a refund
debits it, so refunds alone check its sum of postings, one at a time (see `service.refund`)."""

from __future__ import annotations

from dataclasses import dataclass

WALLET, ESCROW, HOST, PLATFORM, EXTERNAL = (
    "wallet",
    "escrow",
    "host_earnings",
    "platform_revenue",
    "external",
)
PLATFORM_OWNER, WORLD = "gp4u", "world"
# Accounts that may hold a negative balance: the outside world (money that came in).
MAY_GO_NEGATIVE = frozenset({EXTERNAL})
# House accounts every movement touches: their balance is only ever the sum of their postings,
# never a cached row, so concurrent movements do not queue on one hot row.
UNCACHED = frozenset({EXTERNAL, PLATFORM})


@dataclass(frozen=True)
class Leg:
    owner: str
    kind: str
    amount: int


class Unbalanced(ValueError):
    """A journal entry whose legs do not sum to zero: a bug, never written."""


def balanced(legs: list[Leg]) -> list[Leg]:
    if not legs or sum(leg.amount for leg in legs) != 0:
        raise Unbalanced(f"legs sum to {sum(leg.amount for leg in legs)}, not 0")
    return [leg for leg in legs if leg.amount != 0]


def deposit(owner: str, amount: int) -> list[Leg]:
    return balanced([Leg(WORLD, EXTERNAL, -amount), Leg(owner, WALLET, amount)])


def withdraw(owner: str, amount: int) -> list[Leg]:
    return balanced([Leg(owner, WALLET, -amount), Leg(WORLD, EXTERNAL, amount)])


def authorise(owner: str, amount: int) -> list[Leg]:
    return balanced([Leg(owner, WALLET, -amount), Leg(owner, ESCROW, amount)])


def capture(
    owner: str,
    held: int,
    amount: int,
    host: str | None,
    fee_basis_points: int,
    fee: int | None = None,
) -> list[Leg]:
    """Take `amount` of a hold of `held`: to the host (less the platform fee: `fee` when the
    caller computed it, else `fee_basis_points` of the amount) or to the platform; the rest
    goes back to the wallet."""
    if not 0 <= amount <= held:
        raise ValueError(f"capture {amount} of a hold of {held}")
    legs = [Leg(owner, ESCROW, -held), Leg(owner, WALLET, held - amount)]
    if host is None:
        legs.append(Leg(PLATFORM_OWNER, PLATFORM, amount))
    else:
        cut = amount * fee_basis_points // 10_000 if fee is None else fee
        if not 0 <= cut <= amount:
            raise ValueError(f"a fee of {cut} on a capture of {amount}")
        legs += [Leg(host, HOST, amount - cut), Leg(PLATFORM_OWNER, PLATFORM, cut)]
    return balanced(legs)


def collect_earnings(host: str, amount: int) -> list[Leg]:
    """A host's earnings move into their wallet, from where they are paid out."""
    return balanced([Leg(host, HOST, -amount), Leg(host, WALLET, amount)])


def payout(owner: str, held: int) -> list[Leg]:
    """Settle a withdrawal hold: all of it leaves escrow for the outside world (the bank)."""
    return balanced([Leg(owner, ESCROW, -held), Leg(WORLD, EXTERNAL, held)])


def refund(owner: str, amount: int) -> list[Leg]:
    """The platform gives money back to a wallet out of its revenue."""
    return balanced([Leg(PLATFORM_OWNER, PLATFORM, -amount), Leg(owner, WALLET, amount)])


def release(owner: str, held: int) -> list[Leg]:
    """Void or expire: the whole hold goes back to the wallet."""
    return balanced([Leg(owner, ESCROW, -held), Leg(owner, WALLET, held)])


OPEN, CAPTURED, VOIDED, EXPIRED = "open", "captured", "voided", "expired"


class HoldResolved(ValueError):
    """A hold is resolved exactly once."""


def resolve(status: str, to: str) -> str:
    if status != OPEN:
        raise HoldResolved(f"the hold is already {status}")
    return to
