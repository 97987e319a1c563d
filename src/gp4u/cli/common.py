"""What every `gp4u` command module shares: settings, the one-line error exit, and the common
options (--api, --json/--csv). Light on purpose: importing it must not slow the CLI's start."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

import click

from gp4u.kit.errors import AppError

F = TypeVar("F", bound=Callable[..., Any])


def load_settings() -> Any:
    from gp4u.settings import Settings

    return Settings()


def fail(message: str, code: int = 2) -> NoReturn:
    """Print `error: message` on stderr and exit (2: bad input or a refused request; 1: an
    operation that ran and failed)."""
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def handle_errors(fn: F) -> F:
    """Show business errors (bad queries, unknown ids, provider failures) as one clear line."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except AppError as exc:
            fail(exc.detail)
        except (FileNotFoundError, ValueError) as exc:
            fail(str(exc))

    return wrapper  # type: ignore[return-value]


def output_options(fn: F) -> F:
    fn = click.option("--csv", "fmt", flag_value="csv", help="Print CSV.")(fn)
    fn = click.option("--json", "fmt", flag_value="json", help="Print JSON (the API's shape).")(fn)
    return click.option("--table", "fmt", flag_value="table", default=True, hidden=True)(fn)


def json_option(fn: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON (the API's shape).")(fn)


def page_options(noun: str, states: tuple[str, ...]) -> Callable[[F], F]:
    """`--state` (repeatable), `--before ID` and `--limit` of a newest-first list of `noun`."""

    def decorate(fn: F) -> F:
        fn = click.option("--limit", type=click.IntRange(1, 200), default=50, show_default=True)(fn)
        fn = click.option(
            "--before",
            type=click.IntRange(min=1),
            metavar="ID",
            help=f"{noun.capitalize()} older than ID.",
        )(fn)
        return click.option(
            "--state",
            "states",
            type=click.Choice(states),
            multiple=True,
            help=f"Only {noun} in this state (repeat for more).",
        )(fn)

    return decorate


def api_option(fn: F) -> F:
    return click.option(
        "--api",
        "api_url",
        envvar="GP4U_API_URL",
        metavar="URL",
        help="Ask this GP4U server instead of the local database (env GP4U_API_URL), with the "
        "API key `gp4u login` stored for it.",
    )(fn)
