"""A cluster run end to end with real processes: `gp4u serve` (in-process jobs) plans a job over
the `local` provider's priced slots (`<data_dir>/local-offers.json`), holds its cost, and starts
one session per member; each member is a real workload process whose real node agent checks in
and reports its workload done. One planned slot disappears before the start, so its member
fails to launch and the cluster re-plans the rest without it. The cluster completes with every
machine confirmed gone, contribution shares summing to 1, the wallet charged exactly what the
members cost, and the ledger audit passing (the `engine` fixture audits after the test)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from gp4u.clusters.throughput import instance_pflops
from tests.provisioning.test_local_agent import (  # noqa: F401 - broker_env is a fixture
    _alive_instances,
    _api,
    _free_port,
    broker_env,
    serving,
    until,
)

SLOTS = [
    {"ref": "slot-a", "gpu": "H100", "gpu_memory_gb": 80, "price_per_hour": 2.00},
    {"ref": "slot-b", "gpu": "H100", "gpu_memory_gb": 80, "price_per_hour": 2.10},
    {"ref": "slot-c", "gpu": "H100", "gpu_memory_gb": 80, "price_per_hour": 2.20},
    {"ref": "slot-d", "gpu": "H100", "gpu_memory_gb": 80, "price_per_hour": 2.30},
]
DEPOSIT = 50.0


def _write_slots(data_dir: Path, slots: list[dict[str, Any]]) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "local-offers.json").write_text(json.dumps(slots))


def _market_ready(api: httpx.Client, count: int) -> bool:
    api.post("/api/v1/providers/local/sync")
    items = api.get("/api/v1/offers", params={"q": "provider=local"}).json()["items"]
    return len(items) == count


def _started(api: httpx.Client, cluster_id: int) -> dict[str, Any] | None:
    # Until the server's startup reconciliation is done, a start is refused with 503.
    response = api.post(f"/api/v1/clusters/{cluster_id}/start")
    if response.status_code == 503:
        return None
    assert response.status_code == 202, response.text
    return dict(response.json())


def _cluster(api: httpx.Client, cluster_id: int) -> dict[str, Any]:
    return dict(api.get(f"/api/v1/clusters/{cluster_id}").json())


def _ended(api: httpx.Client, cluster_id: int) -> dict[str, Any] | None:
    found = _cluster(api, cluster_id)
    return found if found["state"] in ("completed", "failed", "stopped") else None


def test_a_cluster_runs_on_real_agents_and_replaces_a_member_that_cannot_launch(
    broker_env: dict[str, str],  # noqa: F811 - the fixture imported above
    engine: AsyncEngine,
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "var"
    _write_slots(data_dir, SLOTS)
    [h100] = instance_pflops(["H100"], [None], [80.0], [1], "bf16")
    port = _free_port()
    with serving(broker_env, port), _api(port) as api:
        deposit = api.post("/api/v1/wallet/deposits", json={"amount": "50.00", "source": "tok_ok"})
        assert deposit.status_code in (200, 201), deposit.text
        until(lambda: _market_ready(api, len(SLOTS)), "the slots are on the market")
        body = {
            # Two H100s for an hour (one alone would need 1.9 h): the two cheapest slots.
            "compute": {"pflop_hours": round(2 * h100 * 0.95, 6)},
            "deadline_hours": 1.5,
            "max_machines": 4,
            "startup_command": "sleep 15",  # still running when the lost member is re-planned
        }
        created = api.post("/api/v1/clusters", json=body)
        assert created.status_code == 201, created.text
        cluster = created.json()
        labels = sorted(m["label"] for m in cluster["members"])
        assert len(labels) == 2 and cluster["money"]["estimate"] > 0
        assert api.get("/api/v1/wallet").json()["held"] == cluster["money"]["estimate"]

        # The cheapest slot is gone before the start: its member cannot launch.
        _write_slots(data_dir, SLOTS[1:])
        until(lambda: _started(api, cluster["id"]), "the cluster starts")
        final = until(lambda: _ended(api, cluster["id"]), "the cluster ends", 120)

        assert final["state"] == "completed", final["events"]
        assert final["replans"] == 1, final["events"]
        failed = [m for m in final["members"] if m["state"] == "failed"]
        done = [m for m in final["members"] if m["state"] == "done"]
        assert len(failed) == 1 and failed[0]["failure"]
        assert failed[0]["offer_id"] in final["excluded_offers"]
        replacements = [m for m in final["members"] if m["round"] == 1]
        assert replacements and failed[0]["offer_id"] not in {m["offer_id"] for m in replacements}
        assert len(done) >= 2 and all(m["ran_hours"] > 0 for m in done), final["events"]
        assert math.isclose(sum(m["contribution"] for m in final["members"]), 1.0, abs_tol=1e-5)
        for member in final["members"]:
            gs = api.get(f"/api/v1/sessions/{member['session_id']}").json()
            assert gs["state"] in ("terminated", "failed") and gs["destroyed_at"], gs
            if member["state"] == "done":
                assert gs["end_reason"] == "agent_done"
        wallet = api.get("/api/v1/wallet").json()
        cost = sum(m["cost_so_far"] for m in final["members"])
        assert wallet["held"] == 0
        assert math.isclose(wallet["available"], DEPOSIT - cost, abs_tol=1e-6)
        assert math.isclose(final["money"]["captured"], cost, abs_tol=1e-6)
    assert _alive_instances(data_dir) == []
