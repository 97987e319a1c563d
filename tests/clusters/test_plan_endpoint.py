"""`POST /api/v1/clusters/plan` over the real Lambda and RunPod catalogs: golden cases checked by
hand against the CSV files, explanations, infeasibility, and bad input.

Hand checks (../shared/data/catalogs; useful PFLOPS = GPUs x dense BF16 TFLOPS x 0.40 for
Hopper, 0.35 for Blackwell, / 1000):
- 100 H100 GPU-hours = 100 x 989.4 x 0.40 / 1000 = 39.576 useful PFLOP-hours.
- RunPod `8x_H100_SECURE` at $19.12/h is the cheapest compute on an 8-GPU machine with 80 GB
  per GPU ($6.04 per useful PFLOP-hour; Lambda's 8x H100 SXM costs $23.92/h): it does the job in
  exactly 12.5 h for 12.5 x $19.12 = $239.00.
- With 10 h, no H100 machine is fast enough; Lambda's 8x B200 (8 x 2,250 x 0.35 = 6.3 PFLOPS,
  $53.52/h) is the cheapest that is: 39.576 / 6.3 = 6.2819 h, $336.21.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
import yaml
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gp4u.kit.clock import FrozenClock
from gp4u.offers import jobs
from tests.conftest import CATALOGS

ONE_MACHINE = {"placement": "single_machine", "min_gpus_per_machine": 8, "min_vram_gb": 80}


@pytest.fixture
async def market(sessions: async_sessionmaker[AsyncSession], clock: FrozenClock) -> None:
    await jobs.import_catalog_files(sessions, [CATALOGS / "lambda", CATALOGS / "runpod"], clock)


async def _plan(client: httpx.AsyncClient, **body: Any) -> dict[str, Any]:
    response = await client.post("/api/v1/clusters/plan", json=body)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def test_the_cheapest_machine_that_does_the_job(
    market: None, client: httpx.AsyncClient
) -> None:
    body = await _plan(
        client,
        compute={"gpu_hours": 100, "reference_gpu": "H100"},
        deadline_hours=24,
        **ONE_MACHINE,
    )
    assert body["status"] == "planned"
    assert body["requirement"]["pflop_hours"] == pytest.approx(39.576)
    exact = body["exact"]
    (member,) = exact["members"]
    assert member["instances"] == 1 and member["gpus_each"] == 8
    assert member["price_per_hour"] == 19.12 and "H100" in member["label"]
    assert member["hours_each"] == pytest.approx(12.5)
    assert exact["cost"] == pytest.approx(239.00, abs=0.01)
    assert exact["machines"] == 1 and exact["scaling"] == 1
    assert body["greedy"]["cost"] >= exact["cost"]
    assert body["market"]["candidates"] <= body["market"]["eligible"] <= body["market"]["offers"]
    assert any("H100 delivers 40%" in a for a in body["assumptions"])


async def test_a_tight_deadline_sets_the_price_and_says_what_relaxing_it_saves(
    market: None, client: httpx.AsyncClient
) -> None:
    body = await _plan(
        client,
        compute={"gpu_hours": 100, "reference_gpu": "H100"},
        deadline_hours=10,
        **ONE_MACHINE,
    )
    exact = body["exact"]
    (member,) = exact["members"]
    assert "B200" in member["label"] and member["price_per_hour"] == 53.52
    assert member["hours_each"] == pytest.approx(39.576 / 6.3, rel=1e-6)
    assert exact["cost"] == pytest.approx(53.52 * 39.576 / 6.3, abs=0.01)
    explanation = body["explanation"]
    assert explanation["binding"] == "deadline"
    deadline = next(c for c in explanation["relaxations"] if c["constraint"] == "deadline")
    assert deadline["changes"] == {"deadline_hours": 12.5}
    assert deadline["cost"] == pytest.approx(239.00, abs=0.01)
    assert deadline["saves"] == pytest.approx(exact["cost"] - 239.00, abs=0.02)
    assert "12.5 h instead of 10 h" in explanation["binding_detail"]


async def test_no_plan_names_the_constraint_and_the_nearest_alternative(
    market: None, client: httpx.AsyncClient
) -> None:
    too_big = await _plan(client, compute={"pflop_hours": 10}, deadline_hours=24, min_vram_gb=500)
    assert too_big["status"] == "infeasible" and too_big["exact"] is None
    assert too_big["infeasibility"]["constraint"] == "vram"
    (nearest,) = too_big["infeasibility"]["alternatives"]
    assert nearest["feasible"] and nearest["changes"]["min_vram_gb"] < 500

    too_soon = await _plan(
        client, compute={"gpu_hours": 100, "reference_gpu": "H100"}, deadline_hours=2, **ONE_MACHINE
    )
    assert too_soon["infeasibility"]["constraint"] == "deadline"
    longer = too_soon["infeasibility"]["alternatives"][0]
    assert longer["constraint"] == "deadline" and longer["feasible"]
    assert longer["changes"]["deadline_hours"] == 7  # ceil(39.576 / 6.3) on the fastest machine

    poor = await _plan(
        client,
        compute={"gpu_hours": 100, "reference_gpu": "H100"},
        deadline_hours=24,
        budget_usd=100,
        **ONE_MACHINE,
    )
    assert poor["infeasibility"]["constraint"] == "budget"
    assert "$239.00" in poor["infeasibility"]["detail"]
    raise_budget = poor["infeasibility"]["alternatives"][0]
    assert raise_budget["changes"] == {"budget_usd": pytest.approx(239.0, abs=0.01)}


async def test_a_deadline_date_and_gpu_spellings_are_understood(
    market: None, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    body = await _plan(
        client,
        compute={"gpu_hours": 100, "reference_gpu": "h100 sxm"},
        deadline=(clock.now() + timedelta(hours=20)).isoformat(),
        **ONE_MACHINE,
    )
    assert body["requirement"]["deadline_hours"] == 20
    assert body["requirement"]["described_as"].startswith("100 H100 GPU-hours")
    assert body["exact"]["cost"] == pytest.approx(239.00, abs=0.01)


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"compute": {}, "deadline_hours": 1}, "exactly one of pflop_hours and gpu_hours"),
        ({"compute": {"pflop_hours": 1}}, "exactly one of deadline_hours and deadline"),
        ({"compute": {"pflop_hours": -1}, "deadline_hours": 1}, "greater than 0"),
        ({"compute": {"pflop_hours": 1}, "deadline_hours": 1, "placement": "moon"}, "placement"),
        ({"compute": {"pflop_hours": 1}, "deadline_hours": 1, "owner": 1}, "owner"),
        ({"compute": {"pflop_hours": 1}, "deadline_hours": 1, "max_machines": 0}, "max_machines"),
    ],
)
async def test_bad_requests_say_what_is_wrong(
    client: httpx.AsyncClient, body: dict[str, Any], fragment: str
) -> None:
    response = await client.post("/api/v1/clusters/plan", json=body)
    assert response.status_code == 422
    assert fragment in response.text


async def test_unusable_values_are_refused_with_400(client: httpx.AsyncClient) -> None:
    unknown = await client.post(
        "/api/v1/clusters/plan",
        json={"compute": {"gpu_hours": 5, "reference_gpu": "Voodoo5"}, "deadline_hours": 3},
    )
    assert unknown.status_code == 400 and "unknown GPU 'Voodoo5'" in unknown.json()["detail"]
    past = await client.post(
        "/api/v1/clusters/plan",
        json={"compute": {"pflop_hours": 5}, "deadline": "2001-01-01T00:00:00Z"},
    )
    assert past.status_code == 400 and "deadline" in past.json()["detail"]


async def test_the_plan_exports_as_skypilot_tasks_and_terraform_style_yaml(
    market: None, client: httpx.AsyncClient
) -> None:
    job = {"compute": {"gpu_hours": 100, "reference_gpu": "H100"}, "deadline_hours": 24}
    sky = await _plan(client, **job, **ONE_MACHINE, export="skypilot")
    (task,) = list(yaml.safe_load_all(sky["export"]))
    (member,) = sky["exact"]["members"]
    assert task["resources"] == {"cloud": "runpod", "accelerators": "H100:8", "use_spot": False}
    assert task["num_nodes"] == 1 and task["envs"]["GP4U_OFFER_ID"] == str(member["offer_id"])
    assert float(task["envs"]["GP4U_HOURS_EACH"]) == pytest.approx(12.5)

    terraform = yaml.safe_load((await _plan(client, **job, export="terraform"))["export"])
    cluster = terraform["resource"]["gp4u_cluster"]["gp4u_plan"]
    assert cluster["pflop_hours"] == pytest.approx(39.576)
    assert sum(m["count"] for m in cluster["members"].values()) >= 1
    assert (await _plan(client, **job))["export"] is None


async def test_out_of_range_requests_get_400_not_500(client: httpx.AsyncClient) -> None:
    naive = await client.post(
        "/api/v1/clusters/plan",
        json={"compute": {"pflop_hours": 1}, "deadline": "2999-01-01T00:00:00"},
    )
    assert naive.status_code == 400 and "within 8784 hours" in naive.json()["detail"]
    for text in (
        "5 pflop-hours by 9999-12-31",
        "pretrain a 7B model on 1B tokens in 2 days under $" + "9" * 30,
    ):
        response = await client.post("/api/v1/wizard/estimate", json={"text": text})
        assert response.status_code in (200, 400), response.text
