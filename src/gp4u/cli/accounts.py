"""`gp4u login` / `gp4u logout`: an API key per remote server, stored for later --api commands
(see `gp4u.cli.credentials`); and `gp4u user grant`, the operator's tool on the local database.

A login's password is sent once and never stored; its access token lives only as long as the
command that needs it (creating or revoking a key, changing a budget: things an API key may not
do), and the login is ended before the command returns."""

from __future__ import annotations

import contextlib
import os
import sys
from typing import Any, NamedTuple

import click

from gp4u.cli import credentials
from gp4u.cli.common import fail, handle_errors, load_settings
from gp4u.cli.remote import RemoteClient, RemoteError

ROLES = ("renter", "host", "admin")


class Login(NamedTuple):
    client: RemoteClient
    access_token: str
    refresh_token: str


def read_password(from_stdin: bool, email: str) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt(f"Password for {email}", hide_input=True, err=True)
    if not password:
        fail("no password given")
    return str(password)


def log_in(api_url: str, email: str, password: str) -> Login:
    """A login (access and refresh token) on the server, without stored credentials."""
    client = RemoteClient(api_url)
    try:
        tokens = client.send("POST", "/api/v1/auth/login", {"email": email, "password": password})
    except RemoteError as exc:
        if exc.status in (400, 401, 422):
            fail(f"login to {client.api_url} failed: {exc.server_detail}")
        raise
    return Login(client, tokens["access_token"], tokens["refresh_token"])


def end_login(login: Login) -> None:
    """End the login (best effort: its tokens expire on their own anyway)."""
    with contextlib.suppress(RemoteError):
        login.client.send(
            "POST",
            "/api/v1/auth/logout",
            {"refresh_token": login.refresh_token},
            token=login.access_token,
        )


def login_for_change(api_url: str, password_stdin: bool, why: str) -> Login | None:
    """A short login for what an API key may not do, as the user whose key is stored for the
    server. None when no key is stored (a local-mode server needs none; with GP4U_API_KEY the
    server decides)."""
    entry = credentials.stored(api_url)
    if entry is None or os.environ.get(credentials.ENV_KEY):
        return None
    email = str(entry.get("email") or "")
    if not email:
        fail(f"{why} needs a login: run gp4u login --api {api_url} again")
    if not password_stdin:
        click.echo(f"{why} needs your password (an API key may not do it)", err=True)
    return log_in(api_url, email, read_password(password_stdin, email))


def _key_name() -> str:
    import socket

    return f"gp4u CLI on {socket.gethostname() or 'this machine'}"[:100]


def _revoke(login: Login, key_id: str) -> bool:
    """Revoke one of the user's API keys; False when the server no longer knows it."""
    try:
        login.client.send("DELETE", f"/api/v1/me/api-keys/{key_id}", token=login.access_token)
    except RemoteError as exc:
        if exc.status == 404:
            return False
        raise
    return True


def _server_url(api_url: str | None) -> str:
    url = api_url or load_settings().api_url
    if not url:
        fail("which server? pass --api URL or set GP4U_API_URL")
    return str(url).rstrip("/")


@click.command()
@click.option(
    "--api",
    "api_url",
    envvar="GP4U_API_URL",
    metavar="URL",
    help="The server to log in to (env GP4U_API_URL).",
)
@click.option("--email", help="Your account's e-mail address (asked when missing).")
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from standard input instead of asking (for scripts).",
)
@click.option(
    "--expires-in-days",
    type=click.IntRange(1, 3650),
    metavar="DAYS",
    help="Let the key expire after this many days (default: never).",
)
@handle_errors
def login(
    api_url: str | None, email: str | None, password_stdin: bool, expires_in_days: int | None
) -> None:
    """Log in to a GP4U server and store an API key for it.

    Creates an API key named "gp4u CLI on <hostname>" with the scopes read and trade (plus host
    when your account has the host role) and stores it for URL in
    ~/.config/gp4u/credentials.json (mode 0600; under $XDG_CONFIG_HOME when set, or where
    GP4U_CREDENTIALS_FILE says). Every later command with --api URL sends it. The password is
    used once and never stored; logging in again replaces (and revokes) the key stored before.
    For scripts, GP4U_API_KEY (a key made in the web UI) is sent instead of any stored key.
    """
    url = _server_url(api_url)
    client = RemoteClient(url)
    try:
        me = client.get("/api/v1/me")
    except RemoteError as exc:
        if exc.status != 401:
            raise
    else:
        if me.get("auth_mode") == "local":
            click.echo(f"{url} runs in local mode (one user, no accounts): no login needed")
            return
    previous = credentials.stored(url) or {}
    address = email or str(click.prompt("E-mail", default=previous.get("email"), err=True))
    session = log_in(url, address, read_password(password_stdin, address))
    try:
        profile = client.send("GET", "/api/v1/me", token=session.access_token)
        created = _create_key(session, profile["roles"], expires_in_days)
        try:
            path = credentials.store(
                url,
                {
                    "key": created["key"],
                    "key_id": created["id"],
                    "email": profile["email"],
                    "scopes": created["scopes"],
                    "created_at": created["created_at"],
                    "expires_at": created["expires_at"],
                },
            )
        except OSError:
            _revoke(session, created["id"])  # a key nobody stored would only be a loose end
            raise
        old_key = previous.get("key_id")
        revoked = bool(old_key) and old_key != created["id"] and _revoke(session, str(old_key))
    finally:
        end_login(session)
    click.echo(
        f"logged in to {url} as {profile['email']}: API key {created['id']} "
        f"({', '.join(created['scopes'])}) stored in {path}"
    )
    if revoked:
        click.echo(f"revoked the key stored before ({old_key})")
    elif old_key and old_key != created["id"]:
        click.echo(
            f"the key stored before ({old_key}) was not revoked (another account's, or already "
            "gone): it stays valid until revoked"
        )


def _create_key(session: Login, roles: list[str], expires_in_days: int | None) -> dict[str, Any]:
    scopes = ["read", "trade", *(["host"] if "host" in roles else [])]
    created: dict[str, Any] = session.client.send(
        "POST",
        "/api/v1/me/api-keys",
        {"name": _key_name(), "scopes": scopes, "expires_in_days": expires_in_days},
        token=session.access_token,
    )
    return created


@click.command()
@click.option(
    "--api",
    "api_url",
    envvar="GP4U_API_URL",
    metavar="URL",
    help="The server to log out of (env GP4U_API_URL).",
)
@click.option(
    "--revoke",
    is_flag=True,
    help="Also revoke the key on the server (asks for your password: keys are revoked with a "
    "login, not with a key).",
)
@click.option(
    "--password-stdin", is_flag=True, help="With --revoke: read the password from standard input."
)
@handle_errors
def logout(api_url: str | None, revoke: bool, password_stdin: bool) -> None:
    """Forget the API key stored for a server (and with --revoke, revoke it there).

    Without --revoke the key stays valid on the server until it is revoked: in the web UI, or
    with DELETE /api/v1/me/api-keys/<key id> and a login token.
    """
    url = _server_url(api_url)
    entry = credentials.stored(url)
    if entry is None:
        click.echo(f"no API key stored for {url}")
        return
    key_id = str(entry.get("key_id"))
    if revoke:
        email = str(entry.get("email") or "")
        session = log_in(url, email, read_password(password_stdin, email))
        try:
            known = _revoke(session, key_id)
        finally:
            end_login(session)
        credentials.forget(url)
        state = "revoked" if known else "already gone on the server"
        click.echo(f"logged out of {url}: API key {key_id} {state} and forgotten")
        return
    credentials.forget(url)
    click.echo(
        f"logged out of {url}: forgot API key {key_id}, which stays valid until revoked (web "
        f"UI, or DELETE /api/v1/me/api-keys/{key_id}); next time use gp4u logout --revoke"
    )


@click.group()
def user() -> None:
    """User accounts in this machine's database (operator tools: no server, no login)."""


@user.command("grant")
@click.argument("email")
@click.argument("role", type=click.Choice(ROLES), metavar="ROLE")
@handle_errors
def user_grant(email: str, role: str) -> None:
    """Give the account EMAIL the role ROLE (how an operator makes the first admin).

    Works directly on the database of GP4U_DATABASE_URL (or the embedded one in
    GP4U_DATA_DIR), never through a server. Logins see the new role at once; an API key keeps
    the scopes it was made with (run gp4u login again for a key with the new scopes).
    """
    import asyncio

    from gp4u.accounts import service
    from gp4u.db.engine import engine_from_settings, session_factory, unit_of_work
    from gp4u.db.migrate import upgrade

    async def grant() -> dict[str, Any]:
        settings = load_settings()
        engine = engine_from_settings(settings)
        try:
            await upgrade(settings.effective_database_url)
            async with unit_of_work(session_factory(engine)) as session:
                return await service.grant_role(session, email, role)
        finally:
            await engine.dispose()

    changed = asyncio.run(grant())
    roles = ", ".join(changed["roles"])
    click.echo(f"{changed['email']} ({changed['id']}) now has the roles {roles}")
