"""Request and response shapes of the accounts API. Responses never carry password hashes,
refresh-token rows, key digests or provider keys; an API key is returned in full only by the
request that creates it."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from gp4u.web.schemas import RequestModel

Role = Literal["renter", "host", "admin"]
SignUpRole = Literal["renter", "host"]
Scope = Literal["read", "trade", "host", "admin"]
Password = Field(min_length=1, max_length=256, description="15 to 128 characters.")


class SignUpIn(RequestModel):
    email: str = Field(max_length=254)
    password: str = Password
    display_name: str | None = Field(None, min_length=1, max_length=100)
    roles: list[SignUpRole] = Field(
        default_factory=lambda: list[SignUpRole](["renter"]),
        max_length=2,
        description="renter (rent GPUs) and/or host (list your own machines).",
    )


class LoginIn(RequestModel):
    email: str = Field(max_length=254)
    password: str = Password


class RefreshIn(RequestModel):
    refresh_token: str = Field(max_length=2048)


class LogoutIn(RequestModel):
    refresh_token: str | None = Field(None, max_length=2048)
    everywhere: bool = Field(False, description="End every login of this user.")


class PasswordChangeIn(RequestModel):
    current_password: str = Password
    new_password: str = Password


class ProfileIn(RequestModel):
    display_name: str | None = Field(None, min_length=1, max_length=100)
    max_session_hours: float | None = Field(
        None,
        gt=0,
        description="Your own cap on a session's lifetime, in hours (never above the platform's "
        "cap); sessions are destroyed when it passes. Omitted: unchanged.",
    )
    clear_max_session_hours: bool = Field(False, description="Go back to the platform's cap.")


class ApiKeyIn(RequestModel):
    name: str = Field(min_length=1, max_length=100)
    scopes: list[Scope] = Field(min_length=1, max_length=4)
    expires_in_days: int | None = Field(None, ge=1, le=3650)


class ProviderKeyIn(RequestModel):
    api_key: str = Field(min_length=8, max_length=1024)


class AdminUserIn(RequestModel):
    roles: list[Role] | None = Field(None, min_length=1, max_length=3)
    is_active: bool | None = None


class UserOut(BaseModel):
    id: str
    email: str
    display_name: str
    roles: list[Role]
    is_active: bool
    created_at: datetime
    max_session_hours: float | None = Field(
        description="Your own cap on a session's lifetime (null: the platform's cap)."
    )


class MeOut(UserOut):
    auth_mode: Literal["local", "accounts"]


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["bearer"]
    expires_in: int = Field(description="Seconds the access token is valid.")
    refresh_token: str
    refresh_expires_in: int


class SignedUpOut(TokenOut):
    user: UserOut


class ApiKeyOut(BaseModel):
    id: str = Field(description="The key's public prefix; use it to revoke the key.")
    name: str
    display: str
    scopes: list[Scope]
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None


class ApiKeyCreated(ApiKeyOut):
    key: str = Field(description="The whole key. Shown this once only: store it now.")


class ApiKeysOut(BaseModel):
    items: list[ApiKeyOut]


class ProviderKeyOut(BaseModel):
    provider: str
    key_hint: str = Field(description="The last characters of the key, to tell keys apart.")
    created_at: datetime
    updated_at: datetime


class ProviderKeysOut(BaseModel):
    items: list[ProviderKeyOut]


class UsersOut(BaseModel):
    items: list[UserOut]
    next_after: str | None = Field(description="Pass as `after` for the next page.")
