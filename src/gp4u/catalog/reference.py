"""Loads the GPU reference table (`gpu_models.toml`, vendor datasheet figures with their sources)
into typed records. Pure and cached: reading it costs a few milliseconds once per process."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources


@dataclass(frozen=True)
class GpuVariantSpec:
    """One form factor and memory size of a GPU family, with the vendor's figures."""

    variant: str | None
    form_factor: str | None
    memory_gb: int
    memory_type: str | None
    memory_bandwidth_gbps: float | None
    fp32_tflops: float | None
    fp16_tflops: float | None
    bf16_tflops: float | None
    fp8_tflops: float | None
    tdp_w: float | None
    source: str


@dataclass(frozen=True)
class GpuFamily:
    """A comparable GPU model (`H100`, `RTX4090`…) and its variants."""

    name: str
    vendor: str
    architecture: str
    segment: str
    default_memory_gb: int
    aliases: tuple[str, ...]
    variants: tuple[GpuVariantSpec, ...]

    @property
    def memory_sizes(self) -> tuple[int, ...]:
        return tuple(sorted({v.memory_gb for v in self.variants}))


def _opt_float(raw: dict[str, object], key: str) -> float | None:
    value = raw.get(key)
    return float(value) if isinstance(value, int | float) else None


def _variant(raw: dict[str, object]) -> GpuVariantSpec:
    variant = str(raw.get("variant") or "") or None
    form_factor = raw.get("form_factor")
    memory_type = raw.get("memory_type")
    return GpuVariantSpec(
        variant=variant,
        form_factor=str(form_factor) if form_factor else None,
        memory_gb=int(raw["memory_gb"]),  # type: ignore[call-overload]
        memory_type=str(memory_type) if memory_type else None,
        memory_bandwidth_gbps=_opt_float(raw, "memory_bandwidth_gbps"),
        fp32_tflops=_opt_float(raw, "fp32_tflops"),
        fp16_tflops=_opt_float(raw, "fp16_tflops"),
        bf16_tflops=_opt_float(raw, "bf16_tflops"),
        fp8_tflops=_opt_float(raw, "fp8_tflops"),
        tdp_w=_opt_float(raw, "tdp_w"),
        source=str(raw["source"]),
    )


@cache
def gpu_families() -> tuple[GpuFamily, ...]:
    """Every GPU family of the reference table, in file order."""
    text = resources.files("gp4u.catalog").joinpath("gpu_models.toml").read_text("utf-8")
    families = []
    for raw in tomllib.loads(text)["gpu"]:
        families.append(
            GpuFamily(
                name=raw["name"],
                vendor=raw["vendor"],
                architecture=raw["architecture"],
                segment=raw["segment"],
                default_memory_gb=int(raw["default_memory_gb"]),
                aliases=tuple(raw.get("aliases", ())),
                variants=tuple(_variant(v) for v in raw["variant"]),
            )
        )
    return tuple(families)


@cache
def families_by_name() -> dict[str, GpuFamily]:
    return {f.name: f for f in gpu_families()}
