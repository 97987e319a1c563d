"""Machine facts: nvidia-smi output parsed defensively (a fake nvidia-smi on PATH), memory from
/proc/meminfo, and detect_gpus (which the local provider uses)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from gp4u.agent import AGENT_VERSION
from gp4u.agent.facts import (
    Gpu,
    collect_facts,
    detect_gpus,
    parse_meminfo,
    parse_nvidia_smi,
    query_gpus,
)

TWO_H100 = """\
NVIDIA H100 80GB HBM3, 81559, 550.54.15, 37, 41
NVIDIA H100 80GB HBM3, 81559, 550.54.15, 0, 35
"""


def _fake_nvidia_smi(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, script: str) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    path = bin_dir / "nvidia-smi"
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return path


def test_parse_two_gpus() -> None:
    gpus = parse_nvidia_smi(TWO_H100)
    assert len(gpus) == 2
    assert gpus[0] == Gpu("NVIDIA H100 80GB HBM3", 81559 / 1024, "550.54.15", 37.0, 41.0)


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        ("", []),
        ("\n  \n", []),
        ("NVIDIA-SMI has failed because it couldn't communicate with the driver.", []),
        ("Tesla T4, 15360", []),  # not the five queried columns
        (", 1024, 1, 2, 3", []),  # no name
        (
            "NVIDIA A100-SXM4-40GB, [N/A], [N/A], [Not Supported], [N/A]",
            [Gpu("NVIDIA A100-SXM4-40GB", None, None, None, None)],
        ),
        (
            "garbage\nTesla T4, 15360, 535.1, x, 50\n",
            [Gpu("Tesla T4", 15.0, "535.1", None, 50.0)],
        ),
    ],
)
def test_parse_is_defensive(output: str, expected: list[Gpu]) -> None:
    assert parse_nvidia_smi(output) == expected


def test_detect_gpus_reads_nvidia_smi(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_nvidia_smi(tmp_path, monkeypatch, f"cat <<'EOF'\n{TWO_H100}EOF\n")
    assert detect_gpus() == ("NVIDIA H100 80GB HBM3", 2, 81559 / 1024)


@pytest.mark.parametrize(
    "script",
    ["exit 9\n", "echo 'total nonsense'\n", "printf '\\377\\376 bytes'\n", "kill -9 $$\n"],
)
def test_a_failing_nvidia_smi_means_no_gpu(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, script: str
) -> None:
    _fake_nvidia_smi(tmp_path, monkeypatch, script)
    assert query_gpus() == []
    assert detect_gpus() == ("Local CPU", 1, None)


def test_no_nvidia_smi_means_no_gpu(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    assert detect_gpus() == ("Local CPU", 1, None)


def test_the_query_asks_for_the_five_columns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    args = tmp_path / "args.txt"
    _fake_nvidia_smi(tmp_path, monkeypatch, f'echo "$@" > {args}\n')
    query_gpus()
    assert args.read_text().split() == [
        "--query-gpu=name,memory.total,driver_version,utilization.gpu,temperature.gpu",
        "--format=csv,noheader,nounits",
    ]


def test_collect_facts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_nvidia_smi(tmp_path, monkeypatch, f"cat <<'EOF'\n{TWO_H100}EOF\n")
    facts = collect_facts()
    assert facts["agent_version"] == AGENT_VERSION
    assert facts["hostname"] and facts["cpu_count"] >= 1
    assert facts["memory_gb"] is None or facts["memory_gb"] > 0
    assert (facts["gpu_name"], facts["gpu_count"], facts["gpu_memory_gb"]) == (
        "NVIDIA H100 80GB HBM3",
        2,
        79.65,
    )
    assert facts["driver_version"] == "550.54.15"
    assert facts["gpus"][1] == {
        "name": "NVIDIA H100 80GB HBM3",
        "memory_gb": 79.65,
        "driver_version": "550.54.15",
        "utilization_pct": 0.0,
        "temperature_c": 35.0,
    }


def test_collect_facts_without_a_gpu(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    facts = collect_facts()
    assert (facts["gpu_name"], facts["gpu_count"], facts["gpus"]) == (None, 0, [])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("MemTotal:       16384000 kB\nMemFree: 1 kB\n", 15.62),
        ("MemFree: 1 kB\n", None),
        ("MemTotal: lots\n", None),
        ("MemTotal:\n", None),
    ],
)
def test_parse_meminfo(text: str, expected: float | None) -> None:
    assert parse_meminfo(text) == expected
