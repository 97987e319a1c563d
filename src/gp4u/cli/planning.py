"""`gp4u plan`: the cluster cost simulator, on the local market or a server's (--api)."""

from __future__ import annotations

import re
import sys
from datetime import UTC, datetime
from typing import Any

import click

from gp4u.cli.common import api_option, handle_errors, json_option
from gp4u.cli.common import load_settings as _settings
from gp4u.clusters.requirements import DEFAULT_MAX_MACHINES, LIMIT_MAX_MACHINES, Placement

PLACEMENTS = tuple(p.value for p in Placement)
_HOURS = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(h|hours?|d|days?)?\s*$", re.IGNORECASE)


def deadline_fields(text: str) -> dict[str, Any]:
    """`48`, `48h`, `3d` → hours from now; an ISO date or time → that moment (UTC if no zone)."""
    match = _HOURS.match(text)
    if match:
        amount = float(match.group(1))
        unit = (match.group(2) or "h").lower()
        return {"deadline_hours": amount * 24 if unit.startswith("d") else amount}
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise click.BadParameter(
            f"{text!r}: give hours (48, 48h), days (3d) or a date (2026-12-01T18:00)",
            param_hint="--deadline",
        ) from None
    return {"deadline": (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).isoformat()}


def _usd(value: float | None) -> str:
    return "-" if value is None else f"${value:,.2f}"


def print_planning(body: dict[str, Any]) -> None:
    """A plan as a person reads it: the members, the totals, and why."""
    from gp4u.cli import output

    req = body["requirement"]
    click.echo(
        f"Job: {req['described_as'] or str(req['pflop_hours']) + ' PFLOP-hours'} = "
        f"{req['pflop_hours']:,.1f} useful PFLOP-hours ({req['precision'].upper()}), "
        f"deadline {req['deadline_hours']:g} h"
        + (f", budget {_usd(req['budget'])}" if req["budget"] is not None else "")
    )
    exact = body["exact"]
    if exact is None:
        why = body["infeasibility"]
        label = {"timeout": "No plan in time", "error": "No plan (solver error)"}
        click.echo(f"{label.get(body['status'], 'No plan')} ({why['constraint']}): {why['detail']}")
        for alt in why["alternatives"]:
            state = _usd(alt["cost"]) if alt["feasible"] else "still no plan"
            click.echo(f"  with {alt['description']}: {state}")
        return
    output.print_table(
        None,
        [
            ("OFFER", "right"),
            ("WHAT", "left"),
            ("MACHINES", "right"),
            ("HOURS EACH", "right"),
            ("$/H EACH", "right"),
            ("COST", "right"),
        ],
        [
            (
                m["offer_id"],
                m["label"] + (" (measured speed)" if m["measured"] else ""),
                m["instances"],
                f"{m['hours_each']:.2f}",
                f"{m['price_per_hour']:.2f}",
                _usd(m["cost"]),
            )
            for m in exact["members"]
        ],
    )
    click.echo(
        f"Least cost: {_usd(exact['cost'])} for {exact['machines']} machine(s), {exact['gpus']}"
        f" GPUs, done in {exact['finish_hours']:.1f} h (scaling {exact['scaling']:.1%})."
    )
    greedy = body["greedy"]
    if greedy is not None:
        click.echo(
            f"Greedy by G-Score: {_usd(greedy['cost'])}"
            + (f" ({body['greedy_gap_pct']:+.1f} %)" if body["greedy_gap_pct"] is not None else "")
            + ("" if greedy["within_budget"] else ", over budget")
        )
    explanation = body["explanation"]
    click.echo(f"What sets the price: {explanation['binding_detail']}")
    for change in explanation["relaxations"]:
        click.echo(f"  {change['description']}: saves {_usd(change['saves'])}")


def job_options(fn: Any) -> Any:
    """The options that describe a job (compute, deadline, constraints), shared by `gp4u plan`
    and `gp4u cluster create`; `job_body` turns them into the API's fields."""
    options = [
        click.option(
            "--pflop-hours", type=click.FloatRange(min=0, min_open=True), help="Useful compute."
        ),
        click.option(
            "--gpu-hours", type=click.FloatRange(min=0, min_open=True), help="Or GPU-hours…"
        ),
        click.option("--reference-gpu", default="H100", show_default=True, help="…of this GPU."),
        click.option(
            "--precision",
            type=click.Choice(["bf16", "fp16", "fp32"]),
            default="bf16",
            show_default=True,
        ),
        click.option("--deadline", required=True, help="Hours (48, 48h), days (3d) or a date."),
        click.option(
            "--vram", "min_vram_gb", type=click.FloatRange(min=0), default=0, help="GB per GPU."
        ),
        click.option(
            "--budget", "budget_usd", type=click.FloatRange(min=0, min_open=True), help="USD."
        ),
        click.option(
            "--spot/--no-spot", "spot_allowed", default=False, help="Allow spot instances."
        ),
        click.option("--min-reliability", type=click.FloatRange(0, 1), help="0-1."),
        click.option(
            "--placement", type=click.Choice(PLACEMENTS), default="any", show_default=True
        ),
        click.option(
            "--max-machines",
            type=click.IntRange(1, LIMIT_MAX_MACHINES),
            default=DEFAULT_MAX_MACHINES,
            show_default=True,
        ),
        click.option(
            "--gpus-per-machine",
            "min_gpus_per_machine",
            type=click.IntRange(1, 64),
            default=1,
            help="At least this many GPUs in each machine.",
        ),
        click.option(
            "--sustained", is_flag=True, help="Serving: every machine runs to the deadline."
        ),
        click.option(
            "--exclude", "exclude_offers", type=int, multiple=True, help="Offer id to avoid."
        ),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


JOB_FIELDS = (
    "min_vram_gb",
    "budget_usd",
    "spot_allowed",
    "min_reliability",
    "placement",
    "max_machines",
    "min_gpus_per_machine",
    "sustained",
)


def job_body(fields: dict[str, Any]) -> dict[str, Any]:
    """The API's job fields (`compute`, the deadline, the constraints) from `job_options`'
    values, taken out of `fields`."""
    compute = {
        "pflop_hours": fields.pop("pflop_hours"),
        "gpu_hours": fields.pop("gpu_hours"),
        "reference_gpu": fields.pop("reference_gpu"),
        "precision": fields.pop("precision"),
    }
    if (compute["pflop_hours"] is None) == (compute["gpu_hours"] is None):
        raise click.UsageError("give one of --pflop-hours and --gpu-hours")
    constraints = {name: fields.pop(name) for name in JOB_FIELDS}
    return {
        "compute": {k: v for k, v in compute.items() if v is not None},
        **deadline_fields(fields.pop("deadline")),
        **{k: v for k, v in constraints.items() if v is not None},
        "exclude_offers": list(fields.pop("exclude_offers")),
    }


@click.command()
@job_options
@click.option(
    "--export",
    type=click.Choice(["skypilot", "terraform"]),
    help="Print the least-cost plan as SkyPilot tasks or Terraform-style YAML instead.",
)
@json_option
@api_option
@handle_errors
def plan(as_json: bool, api_url: str | None, export: str | None, **fields: Any) -> None:
    """The cheapest GPUs across all providers for a job's compute, deadline and budget.

    Give the compute as useful PFLOP-hours (--pflop-hours) or as GPU-hours of a reference GPU
    (--gpu-hours 1000 --reference-gpu H100). Prints the least-cost plan, the greedy plan and
    what sets the price; with no plan, the constraint that prevents one and the nearest
    alternatives (exit code 1).
    """
    from gp4u.cli import output
    from gp4u.cli.market import open_market

    body = {**job_body(fields), **({"export": export} if export else {})}
    result = open_market(_settings(), api_url).plan(body)
    if as_json:
        output.print_json(result)
    elif result["export"] is not None:
        click.echo(result["export"], nl=False)
    else:
        print_planning(result)
    if result["exact"] is None:
        sys.exit(1)


def print_wizard(body: dict[str, Any]) -> None:
    """What was understood, what was not, the estimate, then the plan."""
    for item in body["understood"]:
        click.echo(f"understood  {item['text']!r} → {item['meaning']}")
    for words in body["not_understood"]:
        click.echo(f"NOT understood  {words!r}")
    for remark in body["remarks"]:
        click.echo(f"note: {remark}")
    estimate = body["estimate"]
    if estimate is not None:
        click.echo(
            f"Needs {estimate['pflop_hours']:,.1f} useful PFLOP-hours"
            f" ({estimate['precision'].upper()}), {estimate['min_vram_gb']:g} GB per GPU,"
            f" at least {estimate['min_gpus_per_machine']} GPU(s) per machine."
        )
        for assumption in estimate["assumptions"]:
            click.echo(f"  assumes: {assumption}")
    if body["problem"]:
        click.echo(f"Cannot plan yet: {body['problem']}")
    elif body["planning"] is not None:
        print_planning(body["planning"])


@click.command()
@click.argument("words", nargs=-1, required=True)
@click.option("--no-plan", is_flag=True, help="Only say what was understood and estimated.")
@click.option(
    "--export", type=click.Choice(["skypilot", "terraform"]), help="Print the plan as YAML."
)
@json_option
@api_option
@handle_errors
def wizard(
    words: tuple[str, ...], no_plan: bool, export: str | None, as_json: bool, api_url: str | None
) -> None:
    """Describe a job in words; see what was understood, what it needs, and its cheapest plan.

    Example: gp4u wizard "fine-tune llama 3 70B with LoRA on 200M tokens in 2 days under $1500"
    Exit code 1 when it cannot be planned (something missing, or no plan on the market).
    """
    from gp4u.cli import output
    from gp4u.cli.market import open_market

    body = {"text": " ".join(words), "plan": not no_plan, "export": export}
    result = open_market(_settings(), api_url).wizard(body)
    planning = result["planning"]
    if as_json:
        output.print_json(result)
    elif export and planning and planning["export"]:
        click.echo(planning["export"], nl=False)
    else:
        print_wizard(result)
    if result["problem"] or (planning is not None and planning["exact"] is None):
        sys.exit(1)
