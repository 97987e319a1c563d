"""The GPU normaliser over every spelling in the shared data, the issue's examples, and queries."""

from __future__ import annotations

import ast
import csv
import json

import pytest

from gp4u.catalog.normalise import canonical_variant, normalise_gpu, parse_gpu_name
from tests.catalog.gpu_spellings import EXPECTED, QUERY_EXAMPLES
from tests.conftest import CATALOGS, PROVIDER_API

ISSUE_EXAMPLES = [
    "NVIDIA H100 80GB HBM3",
    "H100 SXM",
    "H100_NVL",
    "A100-SXM4-80GB",
    "A100-80GB",
    "Tesla V100",
    "V100-32GB",
    "RTX A6000",
    "RTXA6000",
    "NVIDIA GeForce RTX 4090",
    "1x H100 (80 GB SXM5)",
    "RTX6000Ada",
    "RTX 6000 Ada",
    "AMD Instinct MI300X OAM",
]


def _catalog_spellings() -> set[str]:
    names: set[str] = set()
    for path in CATALOGS.glob("*/*.csv"):
        for row in csv.DictReader(path.open()):
            if row.get("AcceleratorName"):
                names.add(row["AcceleratorName"])
            info = (row.get("GpuInfo") or "").strip()
            if info.startswith("{"):
                try:
                    data = json.loads(info)
                except ValueError:
                    data = ast.literal_eval(info)
                for gpu in data.get("Gpus") or data.get("gpus") or []:
                    names.add(gpu.get("Name") or gpu.get("name"))
    return names


def _api_spellings() -> set[str]:
    keys = {"gpu_name", "displayName", "gpuDisplayName"}
    names: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in keys and isinstance(value, str):
                    names.add(value)
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    for path in PROVIDER_API.rglob("*.json"):
        walk(json.loads(path.read_text()))
    return names - {"Imaginary RTX 9999"}  # the Vast docs' placeholder


@pytest.mark.parametrize("spelling", sorted(EXPECTED))
def test_every_known_spelling_normalises(spelling: str) -> None:
    gpu = normalise_gpu(spelling)
    assert (gpu.gpu, gpu.variant, gpu.memory_gb) == EXPECTED[spelling]
    assert gpu.known


def test_the_table_covers_every_spelling_in_the_shared_data() -> None:
    found = _catalog_spellings() | _api_spellings()
    missing = sorted(found - set(EXPECTED))
    assert not missing, f"spellings without an expected mapping: {missing}"
    assert set(ISSUE_EXAMPLES) <= set(EXPECTED)


@pytest.mark.parametrize("spelling", sorted(QUERY_EXAMPLES))
def test_query_spellings_name_only_what_they_state(spelling: str) -> None:
    name = parse_gpu_name(spelling)
    assert (name.gpu, name.variant, name.memory_gb) == QUERY_EXAMPLES[spelling]


def test_unknown_names_are_kept_flagged_and_stable() -> None:
    first = normalise_gpu("Imaginary RTX 9999")
    second = normalise_gpu("imaginary-rtx-9999")
    assert not first.known
    assert first.gpu == second.gpu == "IMAGINARYRTX9999"
    assert parse_gpu_name("Imaginary RTX 9999").gpu == first.gpu  # a query finds it again


@pytest.mark.parametrize(
    ("reported", "count", "expected"),
    [
        (81559 / 1024, 1, 80),  # hyperbolic: MiB as nvidia-smi reports it
        (143771 / 1024, 1, 141),  # vast H200
        (287542 / 1024, 2, 141),  # vast reports the instance's total
        (655360 / 1024, 8, 80),  # primeintellect: total in the per-GPU field
        (48.0, 1, 48),
    ],
)
def test_reported_memory_snaps_to_datasheet_sizes(
    reported: float, count: int, expected: int
) -> None:
    gpu_name = "H200" if expected == 141 else "L40S" if expected == 48 else "H100"
    assert normalise_gpu(gpu_name, reported, count).memory_gb == expected


def test_memory_without_a_match_is_kept_rounded() -> None:
    assert normalise_gpu("RTX 4090", 48.0).memory_gb == 48  # modded 48 GB cards exist


def test_stated_memory_wins_over_reported() -> None:
    assert normalise_gpu("A100-80GB", 40.0).memory_gb == 80


def test_edition_suffixes_only_for_families_that_have_them() -> None:
    assert parse_gpu_name("RTXPRO6000S").variant == "Server"
    assert parse_gpu_name("L40S").gpu == "L40S"
    assert parse_gpu_name("RTX 4070S").gpu == "RTX4070Super"


@pytest.mark.parametrize(
    ("raw", "variant"),
    [("sxm4", "SXM"), ("PCIE", "PCIe"), ("nvl", "NVL"), ("oam", "OAM"), ("Max-Q", "MaxQ")],
)
def test_canonical_variants(raw: str, variant: str) -> None:
    assert canonical_variant(raw) == variant
