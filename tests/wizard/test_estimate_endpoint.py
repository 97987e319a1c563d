"""`POST /api/v1/wizard/estimate`: words in, what was understood, the estimate and the plan out."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gp4u.kit.clock import FrozenClock
from gp4u.offers import jobs
from tests.conftest import CATALOGS

ISSUE_EXAMPLE = "fine-tune llama 3 70B with LoRA on 200M tokens in 2 days under $1500"


@pytest.fixture
async def market(sessions: async_sessionmaker[AsyncSession], clock: FrozenClock) -> None:
    await jobs.import_catalog_files(sessions, [CATALOGS / "lambda", CATALOGS / "runpod"], clock)


async def test_the_issue_example_is_understood_estimated_and_planned(
    market: None, client: httpx.AsyncClient
) -> None:
    response = await client.post("/api/v1/wizard/estimate", json={"text": ISSUE_EXAMPLE})
    assert response.status_code == 200, response.text
    body = response.json()
    fields = {u["field"] for u in body["understood"]}
    assert {"deadline_hours", "budget_usd"} <= fields
    assert body["not_understood"] == [] and body["problem"] is None
    assert body["workload"]["kind"] == "lora_finetuning"
    estimate = body["estimate"]
    assert estimate["min_vram_gb"] > 0 and estimate["references"]
    requirement = body["requirement"]
    assert requirement["deadline_hours"] == 48 and requirement["budget"] == 1500
    assert requirement["pflop_hours"] == pytest.approx(estimate["pflop_hours"])
    assert requirement["min_vram_gb"] >= estimate["min_vram_gb"]
    planning = body["planning"]
    assert planning["status"] == "planned" and planning["exact"]["within_budget"]
    for member in planning["exact"]["members"]:
        assert member["gpus_each"] >= estimate["min_gpus_per_machine"]


async def test_words_it_cannot_place_are_reported_and_nothing_is_planned_without_a_deadline(
    client: httpx.AsyncClient,
) -> None:
    body = (
        await client.post(
            "/api/v1/wizard/estimate", json={"text": "pretrain gpt-7 on 1B tokens pronto"}
        )
    ).json()
    assert body["not_understood"], body
    assert body["planning"] is None and body["problem"]


async def test_estimate_without_planning_and_with_an_export(
    market: None, client: httpx.AsyncClient
) -> None:
    only = await client.post("/api/v1/wizard/estimate", json={"text": ISSUE_EXAMPLE, "plan": False})
    assert only.json()["planning"] is None and only.json()["requirement"]["deadline_hours"] == 48
    exported = await client.post(
        "/api/v1/wizard/estimate", json={"text": ISSUE_EXAMPLE, "export": "skypilot"}
    )
    assert "accelerators:" in exported.json()["planning"]["export"]
    empty = await client.post("/api/v1/wizard/estimate", json={"text": ""})
    assert empty.status_code == 422
