"""Where `gp4u wallet` gets and moves money: the embedded database, as the local user, or a
remote GP4U server (--api), as the user whose API key `gp4u login` stored. Both return the
wallet API's JSON shapes, and both check input with the API's own request models."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from gp4u.cli.remote import RemoteClient

if TYPE_CHECKING:
    from pydantic import BaseModel
    from sqlalchemy.ext.asyncio import AsyncSession

    from gp4u.ledger.service import Sessions
    from gp4u.settings import Settings

T = TypeVar("T")


class Wallet(Protocol):
    def balance(self) -> Any: ...
    def transactions(self, params: dict[str, Any]) -> Any: ...
    def deposit(self, amount: Decimal, rail: str, source: str, key: str) -> Any: ...
    def withdraw(self, amount: Decimal, rail: str, destination: str, key: str) -> Any: ...
    def budgets(self) -> Any: ...
    def set_budget(
        self, limit: Decimal | None, key_id: str | None, token: str | None = None
    ) -> Any: ...


class RemoteWallet(RemoteClient):
    def balance(self) -> Any:
        return self.get("/api/v1/wallet")

    def transactions(self, params: dict[str, Any]) -> Any:
        since = params.get("since")
        return self.get(
            "/api/v1/wallet/transactions",
            {**params, "since": since.isoformat() if since else None},
        )

    def _move(self, path: str, body: dict[str, Any], key: str) -> Any:
        return self.send("POST", path, body, headers={"Idempotency-Key": key})

    def deposit(self, amount: Decimal, rail: str, source: str, key: str) -> Any:
        body = {"amount": str(amount), "rail": rail, "source": source}
        return self._move("/api/v1/wallet/deposits", body, key)

    def withdraw(self, amount: Decimal, rail: str, destination: str, key: str) -> Any:
        body = {"amount": str(amount), "rail": rail, "destination": destination}
        return self._move("/api/v1/wallet/withdrawals", body, key)

    def budgets(self) -> Any:
        return self.get("/api/v1/wallet/budget")

    def set_budget(
        self, limit: Decimal | None, key_id: str | None, token: str | None = None
    ) -> Any:
        body = {"monthly_limit": None if limit is None else str(limit), "key_id": key_id}
        return self.send("PUT", "/api/v1/wallet/budget", body, token=token)


def _validated(model: type[BaseModel], **fields: Any) -> Any:
    """Check input with the API's own request model, so local and remote refuse the same."""
    from pydantic import ValidationError

    from gp4u.kit.errors import InvalidInput

    try:
        return model.model_validate(fields)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        raise InvalidInput(f"{where}: {first.get('msg', 'invalid')}", field=where) from None


class EmbeddedWallet:
    """The local user's wallet in this machine's database."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def _rails(self) -> Any:
        from gp4u.wallet.rails import build_rails

        return build_rails(self.settings.rail_list, self.settings.test_rail_settle_seconds)

    def _with_sessions(self, work: Callable[[Sessions], Awaitable[T]]) -> T:
        """Run `work` on the embedded database, after doing what `gp4u serve`'s background jobs
        would have done by now: settle payments the rails have decided, expire lapsed holds."""
        import asyncio

        from gp4u.cli.market import ensure_embedded_ready
        from gp4u.ledger.service import expire_due
        from gp4u.wallet.service import settle_pending

        ensure_embedded_ready(self.settings)

        async def go() -> T:
            from gp4u.db.engine import engine_from_settings, session_factory

            engine = engine_from_settings(self.settings)
            sessions = session_factory(engine)
            try:
                await settle_pending(sessions, self._rails(), self._now())
                await expire_due(sessions, self._now())
                return await work(sessions)
            finally:
                await engine.dispose()

        return asyncio.run(go())

    def _run(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        from gp4u.db.engine import unit_of_work

        async def in_unit(sessions: Sessions) -> T:
            async with unit_of_work(sessions) as session:
                return await work(session)

        return self._with_sessions(in_unit)

    @staticmethod
    def _now() -> datetime:
        from gp4u.kit.clock import SystemClock

        return SystemClock().now()

    @staticmethod
    def _owner() -> str:
        from gp4u.accounts.principal import LOCAL_USER_ID

        return LOCAL_USER_ID

    def balance(self) -> Any:
        from gp4u.wallet import service

        now = self._now()
        return self._run(lambda s: service.summary(s, self._owner(), now))

    def transactions(self, params: dict[str, Any]) -> Any:
        from gp4u.wallet import service

        return self._run(lambda s: service.transactions(s, self._owner(), until=None, **params))

    def _move(self, direction: str, amount: Decimal, rail: str, party: str, key: str) -> Any:
        """Move money as the API does: in a ledger transaction, under the idempotency key."""
        from gp4u.kit.money import usd_to_micros
        from gp4u.wallet import service

        owner, now, rails = self._owner(), self._now(), self._rails()
        return self._with_sessions(
            lambda sessions: service.request_payment(
                sessions, rails, owner, direction, usd_to_micros(amount), rail, party, key, now
            )
        )

    def deposit(self, amount: Decimal, rail: str, source: str, key: str) -> Any:
        from gp4u.wallet.schemas import DepositIn

        body = _validated(DepositIn, amount=amount, rail=rail, source=source)
        return self._move("deposit", body.amount, rail, source, key)

    def withdraw(self, amount: Decimal, rail: str, destination: str, key: str) -> Any:
        from gp4u.wallet.schemas import WithdrawalIn

        body = _validated(WithdrawalIn, amount=amount, rail=rail, destination=destination)
        return self._move("withdrawal", body.amount, rail, destination, key)

    def budgets(self) -> Any:
        from gp4u.wallet import service

        now = self._now()
        return self._run(lambda s: service.budgets(s, self._owner(), now))

    def set_budget(
        self, limit: Decimal | None, key_id: str | None, token: str | None = None
    ) -> Any:
        from gp4u.accounts.principal import local_principal
        from gp4u.accounts.service import list_api_keys
        from gp4u.kit.money import usd_to_micros
        from gp4u.wallet import service
        from gp4u.wallet.schemas import BudgetIn

        body = _validated(BudgetIn, monthly_limit=limit, key_id=key_id)
        micros = None if body.monthly_limit is None else usd_to_micros(body.monthly_limit)
        now = self._now()

        async def change(session: AsyncSession) -> Any:
            keys = {k["id"] for k in await list_api_keys(session, local_principal())}
            return await service.set_budget(session, self._owner(), key_id, micros, now, keys)

        return self._run(change)


def open_wallet(settings: Settings, api_url: str | None) -> Wallet:
    url = api_url or settings.api_url
    return RemoteWallet.for_server(url) if url else EmbeddedWallet(settings)
