"""The process a local instance runs: it records that it is up, runs the startup command if
there is one, and otherwise waits until it is terminated (SIGTERM)."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="A GP4U local instance.")
    parser.add_argument("--instance-dir", type=Path, required=True)
    parser.add_argument("--command", default=None)
    args = parser.parse_args(argv)
    stop = False

    def on_term(*_: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, on_term)
    (args.instance_dir / "running").write_text(str(os.getpid()))
    if args.command:
        child = subprocess.Popen(args.command, shell=True, cwd=args.instance_dir)  # noqa: S602 - the renter's own command on their own machine  # nosec B602
        while not stop and child.poll() is None:
            time.sleep(0.2)
        if child.poll() is None:
            child.terminate()
        return 0
    while not stop:
        time.sleep(0.2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
