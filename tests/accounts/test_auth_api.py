"""The accounts API over HTTP, on both databases: sign-up, both logins, token rotation and
revocation, hostile tokens, API keys and scopes, roles, login throttling, provider keys, and
local mode."""

from __future__ import annotations

from datetime import timedelta

import httpx
import jwt
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gp4u.accounts.keyring import AUDIENCE, ISSUER
from gp4u.accounts.models import ApiKey, ProviderCredential, User
from gp4u.kit.clock import FrozenClock
from gp4u.settings import Settings
from tests.factories import PASSWORD, make_admin, sign_up

NEW_PASSWORD = "an entirely different passphrase"


async def login(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> httpx.Response:
    return await client.post("/api/v1/auth/login", json={"email": email, "password": password})


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_sign_up_creates_a_user_with_a_wallet_and_logs_in(
    accounts_client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    response = await accounts_client.post(
        "/api/v1/auth/signup",
        json={"email": " Ada@Example.COM ", "password": PASSWORD, "roles": ["renter", "host"]},
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["user"]["email"] == "ada@example.com"
    assert body["user"]["roles"] == ["host", "renter"]
    assert body["token_type"] == "bearer" and body["expires_in"] == 900
    assert "password" not in response.text and "hash" not in response.text
    me = await accounts_client.get("/api/v1/me", headers=bearer(body["access_token"]))
    assert me.json()["id"] == body["user"]["id"] and me.json()["auth_mode"] == "accounts"
    wallet = await accounts_client.get("/api/v1/wallet", headers=bearer(body["access_token"]))
    assert wallet.status_code in (200, 404)  # the wallet API may not be mounted yet
    async with sessions() as session:
        user = (
            await session.execute(select(User).where(User.email == "ada@example.com"))
        ).scalar_one()
        assert user.password_hash is not None and user.password_hash.startswith("$argon2id$")

    duplicate = await accounts_client.post(
        "/api/v1/auth/signup", json={"email": "ada@example.com", "password": PASSWORD}
    )
    assert duplicate.status_code == 409 and duplicate.json()["field"] == "email"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"email": "not-an-address", "password": PASSWORD}, "email"),
        ({"email": "bob@example.com", "password": "short"}, "password"),
        ({"email": "bob@example.com", "password": PASSWORD, "roles": ["admin"]}, "body.roles.0"),
        ({"email": "bob@example.com", "password": PASSWORD, "is_active": False}, "body.is_active"),
    ],
)
async def test_sign_up_refuses_bad_input_by_name(
    accounts_client: httpx.AsyncClient, payload: dict[str, object], field: str
) -> None:
    response = await accounts_client.post("/api/v1/auth/signup", json=payload)
    assert response.status_code in (400, 422), response.text
    body = response.json()
    named = body.get("field") or ",".join(f["loc"] for f in body.get("fields", []))
    assert field in named


async def test_oauth2_form_and_json_login_both_work(accounts_client: httpx.AsyncClient) -> None:
    await sign_up(accounts_client, "cy@example.com")
    form = await accounts_client.post(
        "/api/v1/auth/token", data={"username": "cy@example.com", "password": PASSWORD}
    )
    assert form.status_code == 200, form.text
    json_login = await login(accounts_client, "CY@example.com")
    assert json_login.status_code == 200
    wrong = await login(accounts_client, "cy@example.com", "not the password at all")
    unknown = await login(accounts_client, "nobody@example.com")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["detail"] == unknown.json()["detail"]  # never says which was wrong
    assert wrong.headers["www-authenticate"] == "Bearer"


async def test_refresh_rotates_and_a_reused_token_revokes_the_whole_login(
    accounts_client: httpx.AsyncClient,
) -> None:
    await sign_up(accounts_client, "di@example.com")
    first = (await login(accounts_client, "di@example.com")).json()
    second = await accounts_client.post(
        "/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}
    )
    assert second.status_code == 200
    third = await accounts_client.post(
        "/api/v1/auth/refresh", json={"refresh_token": second.json()["refresh_token"]}
    )
    assert third.status_code == 200
    replay = await accounts_client.post(
        "/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}
    )
    assert replay.status_code == 401 and "already used" in replay.json()["detail"]
    # The replay revoked the family: even the newest refresh token is dead now.
    newest = await accounts_client.post(
        "/api/v1/auth/refresh", json={"refresh_token": third.json()["refresh_token"]}
    )
    assert newest.status_code == 401


async def test_hostile_tokens_get_401(
    accounts_client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    await sign_up(accounts_client, "eve@example.com")
    pair = (await login(accounts_client, "eve@example.com")).json()
    claims = jwt.decode(pair["access_token"], options={"verify_signature": False})
    header_b64 = jwt.utils.base64url_encode(b'{"alg":"none","typ":"JWT"}').decode()
    body_b64 = pair["access_token"].split(".")[1]
    alg_none = f"{header_b64}.{body_b64}."
    wrong_key = jwt.encode(claims, "x" * 64, algorithm="HS256")
    wrong_audience = jwt.encode({**claims, "aud": "someone-else"}, "x" * 64, algorithm="HS256")
    for token in (alg_none, wrong_key, wrong_audience, pair["refresh_token"], "garbage"):
        response = await accounts_client.get("/api/v1/me", headers=bearer(token))
        assert response.status_code == 401, token
        assert token not in response.text
    refresh_as_access = await accounts_client.get(
        "/api/v1/me", headers=bearer(pair["refresh_token"])
    )
    assert refresh_as_access.json()["detail"] == "invalid token: wrong token type"
    access_as_refresh = await accounts_client.post(
        "/api/v1/auth/refresh", json={"refresh_token": pair["access_token"]}
    )
    assert access_as_refresh.status_code == 401
    assert (
        await accounts_client.get("/api/v1/me", headers=bearer(pair["access_token"]))
    ).status_code == 200
    clock.advance(timedelta(minutes=15))
    expired = await accounts_client.get("/api/v1/me", headers=bearer(pair["access_token"]))
    assert expired.status_code == 401 and expired.json()["detail"] == "invalid token: expired"
    assert ISSUER and AUDIENCE  # the pinned claims the server checks


async def test_password_change_ends_every_other_login(accounts_client: httpx.AsyncClient) -> None:
    await sign_up(accounts_client, "fay@example.com")
    other = (await login(accounts_client, "fay@example.com")).json()
    mine = (await login(accounts_client, "fay@example.com")).json()
    wrong = await accounts_client.post(
        "/api/v1/me/password",
        json={"current_password": "not my password!!", "new_password": NEW_PASSWORD},
        headers=bearer(mine["access_token"]),
    )
    assert wrong.status_code == 401
    changed = await accounts_client.post(
        "/api/v1/me/password",
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        headers=bearer(mine["access_token"]),
    )
    assert changed.status_code == 200, changed.text
    assert (
        await accounts_client.get("/api/v1/me", headers=bearer(other["access_token"]))
    ).status_code == 401
    refreshed = await accounts_client.post(
        "/api/v1/auth/refresh", json={"refresh_token": other["refresh_token"]}
    )
    assert refreshed.status_code == 401
    fresh = changed.json()["access_token"]
    assert (await accounts_client.get("/api/v1/me", headers=bearer(fresh))).status_code == 200
    assert (await login(accounts_client, "fay@example.com")).status_code == 401
    assert (await login(accounts_client, "fay@example.com", NEW_PASSWORD)).status_code == 200


async def test_logout_ends_the_login(accounts_client: httpx.AsyncClient) -> None:
    await sign_up(accounts_client, "gus@example.com")
    pair = (await login(accounts_client, "gus@example.com")).json()
    out = await accounts_client.post(
        "/api/v1/auth/logout",
        json={"refresh_token": pair["refresh_token"]},
        headers=bearer(pair["access_token"]),
    )
    assert out.status_code == 204
    again = await accounts_client.post(
        "/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]}
    )
    assert again.status_code == 401
    everywhere = await accounts_client.post(
        "/api/v1/auth/logout", json={"everywhere": True}, headers=bearer(pair["access_token"])
    )
    assert everywhere.status_code == 204
    assert (
        await accounts_client.get("/api/v1/me", headers=bearer(pair["access_token"]))
    ).status_code == 401


async def test_api_keys_are_shown_once_stored_hashed_scoped_and_revocable(
    accounts_client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
    clock: FrozenClock,
) -> None:
    headers = await sign_up(accounts_client, "hal@example.com")
    created = await accounts_client.post(
        "/api/v1/me/api-keys", json={"name": "laptop", "scopes": ["read"]}, headers=headers
    )
    assert created.status_code == 201, created.text
    key = created.json()["key"]
    assert key.startswith("gp4u_") and created.json()["id"] in key
    listed = await accounts_client.get("/api/v1/me/api-keys", headers=headers)
    assert key not in listed.text and listed.json()["items"][0]["last_used_at"] is None
    async with sessions() as session:
        row = (await session.execute(select(ApiKey))).scalar_one()
        assert key not in (row.digest, row.prefix) and len(row.digest) == 64

    clock.advance(timedelta(minutes=5))
    assert (await accounts_client.get("/api/v1/alerts", headers=bearer(key))).status_code == 200
    listed = await accounts_client.get("/api/v1/me/api-keys", headers=headers)
    assert listed.json()["items"][0]["last_used_at"] is not None
    # read scope: no spending or creating, and never key management
    write = await accounts_client.post(
        "/api/v1/alerts",
        json={"query": "gpu=H100", "max_price_per_gpu_hour": 2.0},
        headers=bearer(key),
    )
    assert write.status_code == 403 and "scope" in write.json()["detail"]
    mint = await accounts_client.post(
        "/api/v1/me/api-keys", json={"name": "more", "scopes": ["read"]}, headers=bearer(key)
    )
    assert mint.status_code == 403
    beyond = await accounts_client.post(
        "/api/v1/me/api-keys", json={"name": "root", "scopes": ["admin"]}, headers=headers
    )
    assert beyond.status_code == 403

    revoked = await accounts_client.delete(
        f"/api/v1/me/api-keys/{created.json()['id']}", headers=headers
    )
    assert revoked.status_code == 204
    assert (await accounts_client.get("/api/v1/alerts", headers=bearer(key))).status_code == 401
    tampered = key[:-1] + ("A" if key[-1] != "A" else "B")
    assert (
        await accounts_client.get("/api/v1/alerts", headers=bearer(tampered))
    ).status_code == 401


async def test_admin_operations_are_403_for_others(
    accounts_client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    renter = await sign_up(accounts_client, "ivy@example.com")
    admin = await make_admin(sessions, accounts_client, "root@example.com")
    for method, path in (
        ("POST", "/api/v1/providers/local/breaker/reset"),
        ("POST", "/api/v1/providers/local/cache/invalidate"),
        ("POST", "/api/v1/providers/local/sync"),
        ("GET", "/api/v1/admin/users"),
    ):
        denied = await accounts_client.request(method, path, headers=renter)
        assert denied.status_code == 403, path
        anonymous = await accounts_client.request(method, path)
        assert anonymous.status_code == 401, path
    assert (
        await accounts_client.post("/api/v1/providers/local/breaker/reset", headers=admin)
    ).status_code == 200
    users = await accounts_client.get("/api/v1/admin/users", headers=admin)
    assert {u["email"] for u in users.json()["items"]} >= {"ivy@example.com", "root@example.com"}
    ivy = next(u for u in users.json()["items"] if u["email"] == "ivy@example.com")
    off = await accounts_client.patch(
        f"/api/v1/admin/users/{ivy['id']}", json={"is_active": False}, headers=admin
    )
    assert off.status_code == 200 and off.json()["is_active"] is False
    assert (await accounts_client.get("/api/v1/me", headers=renter)).status_code == 401
    assert (await login(accounts_client, "ivy@example.com")).status_code == 401


async def test_login_is_throttled_per_account_with_retry_after(
    accounts_client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    await sign_up(accounts_client, "jo@example.com")
    for _ in range(5):
        assert (
            await login(accounts_client, "jo@example.com", "wrong password here")
        ).status_code == 401
    blocked = await login(accounts_client, "jo@example.com")  # even the right password waits
    assert blocked.status_code == 429
    assert int(blocked.headers["retry-after"]) > 0
    assert blocked.json()["retry_after_seconds"] == int(blocked.headers["retry-after"])
    clock.advance(timedelta(minutes=15, seconds=1))
    assert (await login(accounts_client, "jo@example.com")).status_code == 200


async def test_provider_keys_are_encrypted_at_rest_and_never_returned(
    accounts_client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    headers = await sign_up(accounts_client, "kim@example.com")
    secret = "vast-secret-key-1234567890abcd"
    stored = await accounts_client.put(
        "/api/v1/me/provider-keys/vastai", json={"api_key": secret}, headers=headers
    )
    assert stored.status_code == 200 and stored.json()["key_hint"] == "…abcd"
    listed = await accounts_client.get("/api/v1/me/provider-keys", headers=headers)
    assert secret not in listed.text and listed.json()["items"][0]["provider"] == "vastai"
    async with sessions() as session:
        row = (await session.execute(select(ProviderCredential))).scalar_one()
        assert secret not in row.ciphertext
    unknown = await accounts_client.put(
        "/api/v1/me/provider-keys/nosuch", json={"api_key": secret}, headers=headers
    )
    assert unknown.status_code == 404
    gone = await accounts_client.delete("/api/v1/me/provider-keys/vastai", headers=headers)
    assert gone.status_code == 204


async def test_multi_user_mode_needs_credentials_except_for_market_data(
    accounts_client: httpx.AsyncClient,
) -> None:
    assert (await accounts_client.get("/api/v1/offers")).status_code == 200
    assert (await accounts_client.get("/api/v1/providers")).status_code == 200
    anonymous = await accounts_client.get("/api/v1/alerts")
    assert anonymous.status_code == 401 and anonymous.headers["www-authenticate"] == "Bearer"
    assert (await accounts_client.get("/api/v1/me")).status_code == 401
    malformed = await accounts_client.get("/api/v1/me", headers={"Authorization": "Basic abc"})
    assert malformed.status_code == 401 and "Bearer" in malformed.json()["detail"]


async def test_local_mode_serves_the_local_user_without_sign_up(client: httpx.AsyncClient) -> None:
    me = await client.get("/api/v1/me")
    assert me.status_code == 200
    assert me.json()["id"] == "local" and me.json()["auth_mode"] == "local"
    assert set(me.json()["roles"]) == {"renter", "host", "admin"}
    assert (await client.get("/api/v1/alerts")).status_code == 200
    closed = await client.post(
        "/api/v1/auth/signup", json={"email": "x@example.com", "password": PASSWORD}
    )
    assert closed.status_code == 403 and "local mode" in closed.json()["detail"]
    # credentials that are sent are still checked
    assert (await client.get("/api/v1/me", headers=bearer("garbage"))).status_code == 401


async def test_request_bodies_over_one_mebibyte_get_413(client: httpx.AsyncClient) -> None:
    big = {"query": "gpu=H100", "max_price_per_gpu_hour": 1.0, "name": "x" * (1024 * 1024)}
    response = await client.post("/api/v1/alerts", json=big)
    assert response.status_code == 413 and response.json()["error"] == "PayloadTooLarge"

    async def chunks():  # no Content-Length: the streamed body is counted
        for _ in range(20):
            yield b"x" * 65536

    streamed = await client.post(
        "/api/v1/alerts", content=chunks(), headers={"content-type": "application/json"}
    )
    assert streamed.status_code == 413


async def test_a_users_stored_provider_key_drives_the_adapter_for_their_sessions(
    accounts_client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FrozenClock,
) -> None:
    from gp4u.accounts.keyring import keyring
    from gp4u.accounts.service import provider_api_key
    from gp4u.fakes import kit, vastai
    from gp4u.providers.registry import build_providers

    state = kit.FakeState(api_key="users-own-vast-key-0001")
    with kit.running(vastai.create_app(state)) as fake:
        headers = await sign_up(accounts_client, "lou@example.com")
        owner = (await accounts_client.get("/api/v1/me", headers=headers)).json()["id"]
        await accounts_client.put(
            "/api/v1/me/provider-keys/vastai",
            json={"api_key": "users-own-vast-key-0001"},
            headers=headers,
        )
        async with sessions() as session:
            key = await provider_api_key(session, keyring(settings), owner, "vastai")
        assert key == "users-own-vast-key-0001"
        configured = settings.model_copy(update={"vastai_url": fake.url, "vastai_api_key": None})
        providers = build_providers(configured, clock)
        try:
            assert not (await providers.get("vastai").check_credentials()).ok  # no server key
            assert (await providers.for_account("vastai", key).check_credentials()).ok
        finally:
            await providers.aclose()


async def test_a_multi_user_server_refuses_webhooks_into_its_own_network(
    accounts_client: httpx.AsyncClient,
) -> None:
    headers = await sign_up(accounts_client, "max@example.com")
    for url in ("http://127.0.0.1:6379/", "http://169.254.169.254/latest", "http://10.0.0.5/x"):
        refused = await accounts_client.post(
            "/api/v1/alerts",
            json={"query": "gpu=H100", "max_price_per_gpu_hour": 2.0, "webhook_url": url},
            headers=headers,
        )
        assert refused.status_code == 400 and refused.json()["field"] == "webhook_url", url


def test_local_mode_is_refused_off_loopback_and_production_needs_accounts(
    settings: Settings,
) -> None:
    from gp4u.app import create_app

    with pytest.raises(ValueError, match="loopback"):
        create_app(settings.model_copy(update={"host": "0.0.0.0"}))
    create_app(settings.model_copy(update={"host": "0.0.0.0", "auth": "accounts"}))
    with pytest.raises(ValueError, match="GP4U_SECRET_KEY"):
        Settings(env="production", auth="accounts", payment_rails="")
    with pytest.raises(ValueError, match="GP4U_AUTH=accounts"):
        Settings(env="production", secret_key="s" * 40, payment_rails="")
    with pytest.raises(ValueError, match="test payment rails"):
        Settings(env="production", auth="accounts", secret_key="s" * 40)
    with pytest.raises(ValueError, match="at least 32"):
        Settings(secret_key="short")
