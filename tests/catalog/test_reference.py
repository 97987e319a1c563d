"""The GPU reference table: complete, sourced and consistent."""

from __future__ import annotations

import csv

from gp4u.catalog.normalise import compact, normalise_gpu
from gp4u.catalog.reference import gpu_families
from tests.conftest import CATALOGS


def test_every_catalog_model_is_in_the_reference_table() -> None:
    names = {
        row["AcceleratorName"]
        for path in CATALOGS.glob("*/*.csv")
        for row in csv.DictReader(path.open())
        if row.get("AcceleratorName")
    }
    unknown = sorted(n for n in names if not normalise_gpu(n).known)
    assert not unknown


def test_every_family_is_sourced_and_coherent() -> None:
    families = gpu_families()
    assert len(families) >= 60
    vendors = {f.vendor for f in families}
    assert {"NVIDIA", "AMD", "Intel"} <= vendors
    for family in families:
        assert family.variants, family.name
        assert family.default_memory_gb in family.memory_sizes, family.name
        for variant in family.variants:
            assert variant.source.startswith("http"), (family.name, variant)
            assert variant.memory_gb > 0


def test_aliases_never_point_at_two_families() -> None:
    owner: dict[str, str] = {}
    for family in gpu_families():
        for alias in (family.name, *family.aliases):
            key = compact(alias)
            assert owner.setdefault(key, family.name) == family.name, alias


def test_known_datasheet_figures() -> None:
    h100 = next(f for f in gpu_families() if f.name == "H100")
    sxm = next(v for v in h100.variants if v.variant == "SXM")
    assert (sxm.memory_gb, sxm.bf16_tflops, sxm.memory_bandwidth_gbps) == (80, 989.4, 3350)
    mi300x = next(f for f in gpu_families() if f.name == "MI300X")
    assert mi300x.vendor == "AMD" and mi300x.default_memory_gb == 192
