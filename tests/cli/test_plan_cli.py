"""`gp4u plan` on the embedded database (the Lambda and RunPod catalogs) and against a server."""

from __future__ import annotations

import json

import pytest

from tests.cli.conftest import run
from tests.conftest import CATALOGS

ONE_MACHINE = ["--placement", "single_machine", "--gpus-per-machine", "8", "--vram", "80"]


def test_plan_prints_the_least_cost_plan_and_what_sets_its_price(embedded: dict[str, str]) -> None:
    run(["catalog", "import", str(CATALOGS / "lambda"), str(CATALOGS / "runpod")], embedded)
    args = ["plan", "--gpu-hours", "100", "--reference-gpu", "H100", *ONE_MACHINE]
    table = run([*args, "--deadline", "10h"], embedded).stdout
    assert "8x B200" in table and "Least cost: $336.21" in table
    assert "a deadline of 12.5 h instead of 10 h: saves $97.21" in table

    body = json.loads(run([*args, "--deadline", "1d", "--json"], embedded).stdout)
    assert body["requirement"]["deadline_hours"] == 24
    assert body["exact"]["cost"] == pytest.approx(239.0, abs=0.01)

    none = run([*args, "--deadline", "2", "--budget", "50"], embedded, ok=False)
    assert none.returncode == 1 and "No plan (deadline)" in none.stdout
    assert "with a deadline of 7 h" in none.stdout


def test_plan_refuses_unclear_input(embedded: dict[str, str]) -> None:
    both = run(
        ["plan", "--gpu-hours", "1", "--pflop-hours", "1", "--deadline", "3"], embedded, ok=False
    )
    assert both.returncode == 2 and "give one of --pflop-hours and --gpu-hours" in both.stderr
    when = run(["plan", "--pflop-hours", "1", "--deadline", "soon"], embedded, ok=False)
    assert when.returncode == 2 and "give hours (48, 48h), days (3d) or a date" in when.stderr
    gpu = run(
        ["plan", "--gpu-hours", "1", "--reference-gpu", "Voodoo5", "--deadline", "3"],
        embedded,
        ok=False,
    )
    assert gpu.returncode == 2 and "unknown GPU 'Voodoo5'" in gpu.stderr


def test_plan_asks_a_server_with_api(live_server: str, embedded: dict[str, str]) -> None:
    body = json.loads(
        run(
            ["plan", "--pflop-hours", "0.5", "--deadline", "5", "--json", "--api", live_server],
            embedded,
        ).stdout
    )
    assert body["status"] in {"planned", "infeasible"}
    assert body["market"]["offers"] >= 1 and body["requirement"]["deadline_hours"] == 5


def test_wizard_shows_what_it_understood_and_plans_it(embedded: dict[str, str]) -> None:
    run(["catalog", "import", str(CATALOGS / "lambda"), str(CATALOGS / "runpod")], embedded)
    text = "fine-tune llama 3 70B with LoRA on 200M tokens in 2 days under $1500"
    shown = run(["wizard", text], embedded).stdout
    assert "understood  'in 2 days' → deadline: within 48 hours" in shown
    assert "Least cost: $" in shown and "assumes:" in shown
    sky = run(["wizard", text, "--export", "skypilot"], embedded).stdout
    assert sky.startswith("# GP4U plan:") and "accelerators:" in sky

    vague = run(["wizard", "train", "something", "nice"], embedded, ok=False)
    assert (
        vague.returncode == 1
        and "NOT understood" in vague.stdout
        and "Cannot plan yet" in vague.stdout
    )
