"""Run every benchmark and print one JSON document. Set GP4U_BENCH_DATABASE_URL
(postgresql+asyncpg://…, a database the benchmarks may wipe) to include PostgreSQL.

    python bench/run_all.py [--quick]   # --quick: smaller sizes, for a smoke run
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
BROWSER_READY = (HERE.parent / "web" / "dist" / "index.html").exists() and Path(
    "/usr/bin/chromium"
).exists()


def run(script: str, *args: str) -> object:
    result = subprocess.run(
        [sys.executable, str(HERE / script), *args],
        capture_output=True,
        text=True,
        check=True,
        cwd=HERE,
    )
    return json.loads(result.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    sizes = "10000,100000" if args.quick else "10000,100000,1000000"
    report = {
        "ingest": run("ingest.py"),
        "search": run("search.py", "--sizes", sizes),
        "cli_startup": run("cli_startup.py"),
        "sync": run("sync.py"),
        "resilience": run("resilience.py"),
        "sessions_soak": run("sessions_soak.py", *(["--sessions", "200"] if args.quick else [])),
        "bookings": run("bookings.py", *(["--attempts", "600"] if args.quick else [])),
        "planner": run(
            "planner.py", *(["--requests", "10", "--gap-requests", "40"] if args.quick else [])
        ),
        # The browser against 100k offers (needs a UI build and /usr/bin/chromium).
        "web_ui": (
            run("web_ui.py", *(["--offers", "20000", "--runs", "3"] if args.quick else []))
            if BROWSER_READY
            else {"skipped": "needs web/dist (make web) and /usr/bin/chromium"}
        ),
    }
    json.dump(report, sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
