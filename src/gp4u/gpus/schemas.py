"""API shapes of the GPU reference catalog."""

from __future__ import annotations

from pydantic import BaseModel, Field


class GpuVariantOut(BaseModel):
    variant: str | None
    form_factor: str | None
    memory_gb: int
    memory_type: str | None
    memory_bandwidth_gbps: float | None
    fp32_tflops: float | None = Field(description="Dense, non-tensor.")
    fp16_tflops: float | None = Field(description="Dense tensor.")
    bf16_tflops: float | None = Field(description="Dense tensor.")
    fp8_tflops: float | None = Field(description="Dense tensor.")
    tdp_w: float | None
    source: str = Field(description="Datasheet the figures come from.")


class GpuMarketOut(BaseModel):
    offers: int = Field(description="Available offers of this GPU.")
    providers: int
    min_price_per_gpu_hour: float | None
    median_price_per_gpu_hour: float | None


class GpuOut(BaseModel):
    name: str
    vendor: str
    architecture: str
    segment: str
    default_memory_gb: int
    aliases: list[str]
    variants: list[GpuVariantOut]
    market: GpuMarketOut


class UnknownGpuOut(BaseModel):
    gpu: str = Field(description="The unrecognised name, compacted as stored.")
    offers: int


class GpusOut(BaseModel):
    items: list[GpuOut]
    unrecognised: list[UnknownGpuOut] = Field(
        description="GPU names in the market that the reference table does not know."
    )
