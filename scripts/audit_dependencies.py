"""Audit pinned dependencies for known vulnerabilities with pip-audit, and say plainly how much
was really audited.

    python scripts/audit_dependencies.py [--require-audit] REQUIREMENTS.txt

REQUIREMENTS.txt is the lock exported by `uv export --no-hashes --no-emit-project` (`make
security` does that). Exit status:

- 1 when pip-audit found a known vulnerability (each is listed), or failed for another reason;
- 0 otherwise. When the vulnerability service could not be reached (no connection, or an index
  mirror that does not serve PyPI's per-release JSON API, which pip-audit reports as "Dependency
  not found on PyPI" for every package), one line says that nothing was audited and the status
  is still 0, unless `--require-audit` makes that a failure too.

Standard library only: it runs `python -m pip_audit` with the interpreter that runs it.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# What pip-audit's PyPI service says for a release its JSON API answers 404 for.
NOT_FOUND = "Dependency not found on PyPI"
# Signs in pip-audit's stderr that it could not reach the service at all (it then writes no
# report): requests' connection errors escape it as a traceback, its own ones are logged.
CONNECTION_FAILURES = (
    "requests.exceptions.ConnectionError",
    "requests.exceptions.ConnectTimeout",
    "requests.exceptions.ProxyError",
    "requests.exceptions.SSLError",
    "Could not connect to PyPI's vulnerability feed",
    "PyPI is not redirecting properly",
    "your network may be blocking this service",
)


@dataclass
class Outcome:
    status: int
    lines: list[str] = field(default_factory=list)


def summarise(
    report: dict[str, Any] | None,
    returncode: int,
    stderr: str,
    *,
    require_audit: bool = False,
) -> Outcome:
    """Turn pip-audit's JSON report (None when it wrote none), its exit status and its stderr
    into this script's verdict."""
    if report is None:
        if returncode != 0 and any(sign in stderr for sign in CONNECTION_FAILURES):
            return _unreachable("no connection, no package audited", require_audit)
        return Outcome(
            1, [stderr.rstrip(), f"pip-audit: failed (exit status {returncode}), no report"]
        )
    dependencies: list[dict[str, Any]] = report.get("dependencies", [])
    audited = [d for d in dependencies if "skip_reason" not in d]
    skipped = [d for d in dependencies if "skip_reason" in d]
    found = [(d, v) for d in audited for v in d.get("vulns", [])]
    if found:
        lines = [
            f"{d['name']} {d['version']}: {v['id']}"
            + (f" (aliases {', '.join(v['aliases'])})" if v.get("aliases") else "")
            + (f", fixed in {', '.join(v['fix_versions'])}" if v.get("fix_versions") else "")
            for d, v in found
        ]
        packages = len({d["name"] for d, _ in found})
        noun = "vulnerability" if len(found) == 1 else "vulnerabilities"
        lines.append(
            f"pip-audit: {len(found)} known {noun} in {packages} of {len(dependencies)} packages "
            f"({len(audited)} audited)"
        )
        return Outcome(1, lines)
    if returncode != 0:
        return Outcome(
            1, [stderr.rstrip(), f"pip-audit: failed (exit status {returncode}) without findings"]
        )
    if not audited and skipped and all(d["skip_reason"].startswith(NOT_FOUND) for d in skipped):
        return _unreachable(f"0 of {len(dependencies)} packages audited", require_audit)
    lines = [f"  skipped {d['name']}: {d['skip_reason']}" for d in skipped]
    lines.append(
        f"pip-audit: no known vulnerabilities; {len(audited)} of {len(dependencies)} packages "
        "audited" + (f", {len(skipped)} skipped" if skipped else "")
    )
    return Outcome(0, lines)


def _unreachable(what: str, require_audit: bool) -> Outcome:
    line = f"pip-audit: vulnerability database unreachable, {what}"
    if require_audit:
        return Outcome(1, [f"{line} (--require-audit: failing)"])
    return Outcome(0, [line])


def run_pip_audit(requirements: Path) -> tuple[dict[str, Any] | None, int, str]:
    with tempfile.TemporaryDirectory(prefix="gp4u-audit-") as directory:
        output = Path(directory) / "report.json"
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "pip_audit",
                "--requirement",
                str(requirements),
                "--no-deps",
                "--disable-pip",
                "--progress-spinner",
                "off",
                "--format",
                "json",
                "--aliases",
                "on",
                "--output",
                str(output),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        report: dict[str, Any] | None = None
        if output.is_file() and output.stat().st_size:
            try:
                report = json.loads(output.read_text())
            except json.JSONDecodeError:
                report = None
        return report, result.returncode, result.stderr


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Audit a requirements file for known vulnerabilities with pip-audit."
    )
    parser.add_argument("requirements", type=Path, help="pinned requirements (uv export)")
    parser.add_argument(
        "--require-audit",
        action="store_true",
        help="fail, too, when the vulnerability database could not be reached",
    )
    args = parser.parse_args(argv)
    if not args.requirements.is_file():
        print(f"pip-audit: no such requirements file: {args.requirements}", file=sys.stderr)
        return 1
    report, returncode, stderr = run_pip_audit(args.requirements)
    outcome = summarise(report, returncode, stderr, require_audit=args.require_audit)
    print("\n".join(line for line in outcome.lines if line))
    return outcome.status


if __name__ == "__main__":
    sys.exit(main())
