"""Who is calling (pure): the user, their roles, and the scopes this request may use.

Roles say what a user is (renter, host, admin); scopes say what a credential may do:
`read` (see one's own things), `trade` (spend money, create and change things), `host` (manage
host machines), `admin` (operate GP4U). A login token carries every scope its roles allow; an
API key carries the scopes chosen when it was made, never more than the user's roles allow."""

from __future__ import annotations

from dataclasses import dataclass

from gp4u.kit.errors import Forbidden

RENTER, HOST, ADMIN = "renter", "host", "admin"
ROLES = frozenset({RENTER, HOST, ADMIN})
SIGN_UP_ROLES = frozenset({RENTER, HOST})
READ, TRADE, HOST_SCOPE, ADMIN_SCOPE = "read", "trade", "host", "admin"
ROLE_SCOPES = {
    RENTER: frozenset({READ, TRADE}),
    HOST: frozenset({READ, TRADE, HOST_SCOPE}),
    ADMIN: frozenset({READ, TRADE, HOST_SCOPE, ADMIN_SCOPE}),
}
LOCAL_USER_ID = "local"


def scopes_of(roles: frozenset[str]) -> frozenset[str]:
    return frozenset().union(*(ROLE_SCOPES.get(role, frozenset()) for role in roles))


@dataclass(frozen=True)
class Principal:
    user_id: str
    roles: frozenset[str]
    scopes: frozenset[str]
    via: str  # "local" | "token" | "key"
    key_prefix: str | None = None  # the API key used, for per-key budgets

    @property
    def owner(self) -> str:
        """The owner key of this user's objects and ledger accounts."""
        return self.user_id

    @property
    def is_admin(self) -> bool:
        return ADMIN in self.roles and ADMIN_SCOPE in self.scopes

    def require(self, scope: str) -> None:
        if scope not in self.scopes:
            if scope not in scopes_of(self.roles):
                raise Forbidden(f"this needs the {scope!r} permission, which your account lacks")
            raise Forbidden(f"this API key lacks the {scope!r} scope")

    def require_session(self) -> None:
        """Credentials and keys are managed with a login, never with an API key: a leaked key
        cannot mint more keys or change the password."""
        if self.via == "key":
            raise Forbidden("manage your account with a login token, not an API key")


def local_principal() -> Principal:
    return Principal(user_id=LOCAL_USER_ID, roles=ROLES, scopes=scopes_of(ROLES), via="local")
