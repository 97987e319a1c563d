"""A fake host of published SkyPilot catalogs: `GET /<provider>/vms.csv`, from a directory laid
out like the real catalog repository, or from generated rows. Has the kit's fault switches."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Response

from gp4u.fakes import kit

HEADER = (
    "InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,Price,SpotPrice,Region,"
    "AvailabilityZone,GpuInfo"
)
_GPUS = (("H100", 2.49), ("A100", 1.59), ("L40S", 0.99), ("RTX4090", 0.44))  # $/GPU-hour


def generate_offers(count: int, seed: int) -> list[dict[str, Any]]:
    """`count` SkyPilot rows (as dicts keyed by header) with realistic GPU prices."""
    rng = random.Random(seed)
    rows = []
    for i in range(count):
        gpu, price = _GPUS[i % len(_GPUS)]
        n = (1, 2, 4, 8)[(i // len(_GPUS)) % 4]
        hourly = round(price * n * rng.uniform(0.85, 1.2), 4)
        rows.append(
            {
                "InstanceType": f"gen-{seed}-{i}-{gpu.lower()}-{n}x",
                "AcceleratorName": gpu,
                "AcceleratorCount": n,
                "vCPUs": 8 * n,
                "MemoryGiB": 64 * n,
                "Price": hourly,
                "SpotPrice": round(hourly * 0.6, 4) if i % 3 == 0 else "",
                "Region": ("us-east-1", "eu-west-1", "ap-south-1")[i % 3],
                "AvailabilityZone": "",
                "GpuInfo": "",
            }
        )
    return rows


def _csv(rows: list[dict[str, Any]]) -> str:
    columns = HEADER.split(",")
    lines = [HEADER]
    lines += [",".join(str(r.get(c, "")) for c in columns) for r in rows]
    return "\n".join(lines) + "\n"


def create_app(state: kit.FakeState | None = None, directory: Path | None = None) -> FastAPI:
    """Serve `directory/<provider>/vms.csv` when it exists, else `state.offers` as CSV for any
    provider (generated when empty)."""
    state = state or kit.FakeState()
    app = FastAPI(title="fake catalog host")
    kit.install(app, state, generate_offers, kit.routes(("GET", "/[^/]+/vms.csv", "offers")))

    @app.get("/{provider}/vms.csv")
    async def vms(provider: str) -> Response:
        if directory is not None:
            path = directory / provider / "vms.csv"
            if not path.is_file():
                return Response("404: Not Found", status_code=404, media_type="text/plain")
            return Response(path.read_bytes(), media_type="text/plain")
        if not state.offers:
            state.offers = generate_offers(40, 0)
        return Response(_csv(state.offers), media_type="text/plain")

    return app
