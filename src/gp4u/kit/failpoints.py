"""Failpoints: named places where a test can make this process die on the spot, to prove that
a crash there loses nothing (for example between a provider's create and our commit). Set
`GP4U_FAILPOINT=<name>` in the environment of the process under test; unset, they do nothing."""

from __future__ import annotations

import os

EXIT_CODE = 77


def failpoint(name: str) -> None:
    if os.environ.get("GP4U_FAILPOINT") == name:
        os._exit(EXIT_CODE)  # no cleanup, no commit: exactly like a crash
