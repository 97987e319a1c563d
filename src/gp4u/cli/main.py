"""`gp4u`: the command line. Heavy modules are imported inside commands, so a search starts fast."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from gp4u.cli.accounts import login, logout, user
from gp4u.cli.agent import agent
from gp4u.cli.clusters import cluster
from gp4u.cli.common import api_option, handle_errors, output_options
from gp4u.cli.common import fail as _fail
from gp4u.cli.common import load_settings as _settings
from gp4u.cli.hosts import host
from gp4u.cli.planning import plan, wizard
from gp4u.cli.reservations import availability, book, cancel, reservations
from gp4u.cli.sessions import costs, extend, launch, session, sessions, stop
from gp4u.cli.wallet import wallet

EPILOG_QUERY = """\b
QUERY language: `field op value` terms, all must hold.
  operators  = != < <= > >= in notin ~ (contains)   lists [a,b]   quote "values with spaces"
  example    gpu=H100 gpu_count>=8 price_per_gpu_hour<2.5 country in [US,CA] spot=false
  fields     id provider source instance_type region zone country gpu gpu_variant gpu_memory_gb
             gpu_count vcpus memory_gb disk_gb price_per_hour price_per_gpu_hour spot available
             reliability updated_at
GPU names are read in any provider spelling: gpu=A100-80GB means an 80 GB A100.
In a shell, quote terms with < > [ ] or spaces: 'gpu_count>=8' 'country in [US,CA]'.
Only available offers are shown unless the query mentions `available`.
"""


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="gp4u", prog_name="gp4u")
def main() -> None:
    """GP4U, the Kayak of GPUs: every provider's GPU offers in one searchable market.

    Without a server, commands use the embedded database in GP4U_DATA_DIR (default ./var);
    with --api URL (or GP4U_API_URL) they ask a running GP4U server, with the API key that
    `gp4u login` stored for it.
    """


for command in (login, logout, wallet, user, launch, sessions, session, stop, extend, costs, agent):
    main.add_command(command)
for command in (book, reservations, cancel, availability, host, plan, wizard, cluster):
    main.add_command(command)


@main.command()
@click.option(
    "--host", default=None, help="Interface to listen on (env GP4U_HOST, default 127.0.0.1)."
)
@click.option("--port", type=int, default=None, help="Port (env GP4U_PORT, default 8000).")
@click.option(
    "--migrate/--no-migrate",
    default=None,
    help="Upgrade the schema on start (default on; turn off for distributed deployments, "
    "env GP4U_MIGRATE_ON_START).",
)
def serve(host: str | None, port: int | None, migrate: bool | None) -> None:
    """Start the GP4U server (API, docs at /api/docs).

    On an empty data directory with no network it comes up with the simulated market, so a
    search answers at once. Background jobs sync every provider (live APIs every 30 s, published
    catalogs hourly) unless GP4U_JOBS_BACKEND=celery hands them to `gp4u worker`.
    """
    import uvicorn

    from gp4u.app import create_app
    from gp4u.kit.logging import configure_logging

    settings = _settings()
    updates: dict[str, Any] = {}
    if host:
        updates["host"] = host
    if port:
        updates["port"] = port
    if migrate is not None:
        updates["migrate_on_start"] = migrate
    settings = settings.model_copy(update=updates)
    configure_logging(settings.log_format, settings.log_level)
    app = create_app(settings)
    uvicorn.run(app, host=settings.host, port=settings.port, log_config=None, access_log=False)


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending migration to the configured database."""
    from gp4u.db.engine import ensure_data_dir
    from gp4u.db.migrate import upgrade_sync

    settings = _settings()
    ensure_data_dir(settings)
    upgrade_sync(settings.effective_database_url)
    click.echo("database schema is up to date")


@db.command("current")
def db_current() -> None:
    """Show the schema revision of the configured database."""
    import asyncio

    from gp4u.db.engine import engine_from_settings
    from gp4u.db.migrate import current_revision
    from gp4u.db.schema_version import SCHEMA_REVISION

    async def read() -> str | None:
        engine = engine_from_settings(_settings())
        try:
            return await current_revision(engine)
        finally:
            await engine.dispose()

    revision = asyncio.run(read())
    state = "current" if revision == SCHEMA_REVISION else f"code expects {SCHEMA_REVISION}"
    click.echo(f"{revision or 'empty'} ({state})")


@main.command(epilog=EPILOG_QUERY)
@click.argument("query", nargs=-1)
@click.option(
    "--sort", metavar="FIELD", help="Sort by a numeric field (default price_per_gpu_hour)."
)
@click.option("--desc", is_flag=True, help="Sort descending.")
@click.option("--limit", type=int, help="Offers per page (default 50, at most 1000).")
@click.option("--cursor", help="Continue after a previous page (printed under the table).")
@click.option(
    "--group-by",
    type=click.Choice(["gpu", "variant"]),
    help="Summarise per GPU model (and memory), or also per form factor.",
)
@output_options
@api_option
@handle_errors
def offers(
    query: tuple[str, ...],
    sort: str | None,
    desc: bool,
    limit: int | None,
    cursor: str | None,
    group_by: str | None,
    fmt: str,
    api_url: str | None,
) -> None:
    """Search GPU offers, cheapest per GPU-hour first.

    \b
    Examples:
      gp4u offers gpu=H100 'gpu_count>=8' 'price_per_gpu_hour<2.5'
      gp4u offers 'country in [US,CA]' spot=false --sort price_per_hour --json
      gp4u offers gpu=A100-80GB --group-by gpu
    """
    from gp4u.cli import output
    from gp4u.cli.market import open_market

    market = open_market(_settings(), api_url)
    text = " ".join(query)
    if group_by:
        output.print_summary(market.summary(text, group_by), fmt)
        return
    sort_spec = f"-{sort}" if sort and desc else sort or ("-price_per_gpu_hour" if desc else None)
    output.print_offers(market.offers(text, sort_spec, limit, cursor), fmt)


@main.command()
@click.argument("offer_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@api_option
@handle_errors
def offer(offer_id: int, as_json: bool, api_url: str | None) -> None:
    """Show one offer and its price history."""
    from gp4u.cli import output
    from gp4u.cli.market import open_market

    detail = open_market(_settings(), api_url).offer(offer_id)
    if as_json:
        output.print_json(detail)
        return
    fields = [(k, v) for k, v in detail.items() if k != "history"]
    output.print_table(f"offer {offer_id}", [("FIELD", "left"), ("VALUE", "left")], fields)
    output.print_table(
        "price history",
        [("AT", "left"), ("$/H", "right"), ("$/GPU-H", "right"), ("AVAILABLE", "left")],
        [
            (
                p["at"],
                output.money(p["price_per_hour"]),
                output.money(p["price_per_gpu_hour"]),
                "yes" if p["available"] else "no",
            )
            for p in detail["history"]
        ],
    )


@main.command()
@output_options
@api_option
@handle_errors
def gpus(fmt: str, api_url: str | None) -> None:
    """Every GPU model: specs from vendor datasheets and its market (offers, min/median price)."""
    from gp4u.cli import output
    from gp4u.cli.market import open_market

    data = open_market(_settings(), api_url).gpus()
    if fmt == "json":
        output.print_json(data)
        return
    rows = []
    for g in data["items"]:
        best = max(g["variants"], key=lambda v: v.get("bf16_tflops") or v.get("fp32_tflops") or 0)
        m = g["market"]
        rows.append(
            {
                "gpu": g["name"],
                "vendor": g["vendor"],
                "architecture": g["architecture"],
                "memory_gb": "/".join(
                    sorted({str(v["memory_gb"]) for v in g["variants"]}, key=int)
                ),
                "bf16_tflops": best.get("bf16_tflops"),
                "offers": m["offers"],
                "providers": m["providers"],
                "min_price_per_gpu_hour": m["min_price_per_gpu_hour"],
                "median_price_per_gpu_hour": m["median_price_per_gpu_hour"],
            }
        )
    if fmt == "csv":
        output.print_csv(rows, list(rows[0]) if rows else [])
        return
    output.print_table(
        None,
        [
            ("GPU", "left"),
            ("VENDOR", "left"),
            ("ARCH", "left"),
            ("MEM GB", "left"),
            ("BF16 TF", "right"),
            ("OFFERS", "right"),
            ("PROVIDERS", "right"),
            ("MIN $/GPU-H", "right"),
            ("MEDIAN", "right"),
        ],
        [
            (
                r["gpu"],
                r["vendor"],
                r["architecture"],
                r["memory_gb"],
                r["bf16_tflops"],
                r["offers"],
                r["providers"],
                output.money(r["min_price_per_gpu_hour"]),
                output.money(r["median_price_per_gpu_hour"]),
            )
            for r in rows
        ],
        caption=f"{len(rows)} models"
        + (
            f" · {len(data['unrecognised'])} unrecognised GPU names in the market"
            if data["unrecognised"]
            else ""
        ),
    )


@main.command()
@output_options
@api_option
@handle_errors
def providers(fmt: str, api_url: str | None) -> None:
    """Every provider: status, what it can do (or why not), its offers and last sync."""
    from gp4u.cli import output
    from gp4u.cli.market import open_market

    data = open_market(_settings(), api_url).providers()
    if fmt == "json":
        output.print_json(data)
        return
    items = data["items"]
    if fmt == "csv":
        output.print_csv(items, ["name", "provider", "source", "kind", "status"])
        return
    output.print_table(
        None,
        [
            ("NAME", "left"),
            ("KIND", "left"),
            ("STATUS", "left"),
            ("OFFERS", "right"),
            ("AVAILABLE", "right"),
            ("LAST SYNC", "left"),
            ("NOTES", "left"),
        ],
        [
            (
                i["name"],
                i["kind"],
                i["status"],
                (i.get("market") or {}).get("offers", 0),
                (i.get("market") or {}).get("available_offers", 0),
                (i.get("market") or {}).get("last_sync"),
                _provider_notes(i),
            )
            for i in items
        ],
    )


def _provider_notes(item: dict[str, Any]) -> str:
    """The one thing to know: why the last sync failed, else why it cannot launch."""
    market = item.get("market") or {}
    if market.get("last_status") == "failed":
        note = f"sync failed: {market.get('last_error')}"
    else:
        launch = (item.get("capabilities") or {}).get("launch", "yes")
        note = "" if launch == "yes" else launch
    return note if len(note) <= 90 else note[:89] + "…"


@main.command()
@click.argument("query", nargs=-1)
@click.option("--gpu", help='GPU, any spelling (A100-80GB, "H100 SXM").')
@click.option("--count", "gpu_count", type=int, help="GPUs per instance.")
@click.option("--region", help="Only offers in this region.")
@click.option("--spot/--on-demand", "spot", default=None, help="Only spot, or only on-demand.")
@click.option("--provider", help="Only groups where this provider has an offer.")
@click.option("--min-spread", "min_spread_pct", type=float, default=0.0, help="Minimum spread %.")
@click.option(
    "--sort",
    type=click.Choice(["spread_pct", "spread", "saved_per_hour"]),
    default="spread_pct",
    show_default=True,
)
@click.option("--limit", type=int, default=20, show_default=True)
@output_options
@api_option
@handle_errors
def arbitrage(
    query: tuple[str, ...],
    gpu: str | None,
    gpu_count: int | None,
    region: str | None,
    spot: bool | None,
    provider: str | None,
    min_spread_pct: float,
    sort: str,
    limit: int,
    fmt: str,
    api_url: str | None,
) -> None:
    """Where the same GPU configuration costs most and least across providers.

    QUERY narrows the offers taking part (the query language of `gp4u offers`). Groups: same GPU
    model and memory, same variant, same GPU count, on-demand and spot apart, at least two
    providers. Spread % is what the cheapest saves against the most expensive.
    """
    from gp4u.cli import output
    from gp4u.cli.market import open_market

    params = {
        "q": " ".join(query) or None,
        "gpu": gpu,
        "gpu_count": gpu_count,
        "region": region,
        "spot": spot,
        "provider": provider,
        "min_spread_pct": min_spread_pct,
        "sort": sort,
        "limit": limit,
    }
    data = open_market(_settings(), api_url).arbitrage(params)
    if fmt == "json":
        output.print_json(data)
        return
    items = data["items"]
    if fmt == "csv":
        output.print_csv([_flat_opportunity(i) for i in items], list(_flat_opportunity({})))
        return
    output.print_table(
        None,
        [
            ("GPU", "left"),
            ("N", "right"),
            ("KIND", "left"),
            ("CHEAPEST", "right"),
            ("AT", "left"),
            ("MEDIAN", "right"),
            ("MOST", "right"),
            ("AT", "left"),
            ("SPREAD", "right"),
            ("SAVED/H", "right"),
            ("PROVIDERS", "right"),
        ],
        [
            (
                output.gpu_label(i),
                i["gpu_count"],
                "spot" if i["spot"] else "on-demand",
                output.money(i["min_price_per_gpu_hour"]),
                i["cheapest"]["provider"],
                output.money(i["median_price_per_gpu_hour"]),
                output.money(i["max_price_per_gpu_hour"]),
                i["most_expensive"]["provider"],
                f"{i['spread_pct']:.0f}%",
                output.money(i["saved_per_hour"]),
                i["providers"],
            )
            for i in items
        ],
        caption=f"{len(items)} of {data['groups']} groups; prices per GPU-hour",
    )


def _flat_opportunity(item: dict[str, Any]) -> dict[str, Any]:
    keys = (
        "gpu",
        "gpu_memory_gb",
        "gpu_variant",
        "gpu_count",
        "spot",
        "offers",
        "providers",
        "min_price_per_gpu_hour",
        "median_price_per_gpu_hour",
        "max_price_per_gpu_hour",
        "spread_per_gpu_hour",
        "spread_pct",
        "saved_per_hour",
    )
    flat = {k: item.get(k) for k in keys}
    flat["cheapest_provider"] = (item.get("cheapest") or {}).get("provider")
    flat["most_expensive_provider"] = (item.get("most_expensive") or {}).get("provider")
    return flat


@main.command()
@click.argument("gpu")
@click.option("--count", "gpu_count", type=int, default=1, show_default=True)
@click.option("--hours-per-day", type=float, default=24.0, show_default=True)
@click.option("--days", type=float, default=30.0, show_default=True)
@click.option("--spot", is_flag=True, help="Spot prices instead of on-demand.")
@click.option("--provider", help="Also compare against this provider's cheapest offer.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@api_option
@handle_errors
def savings(
    gpu: str,
    gpu_count: int,
    hours_per_day: float,
    days: float,
    spot: bool,
    provider: str | None,
    as_json: bool,
    api_url: str | None,
) -> None:
    """What GPU (×count) costs at the cheapest offer, at the market median and at a provider."""
    from gp4u.cli import output
    from gp4u.cli.market import open_market

    params = {
        "gpu": gpu,
        "gpu_count": gpu_count,
        "hours_per_day": hours_per_day,
        "days": days,
        "spot": spot,
        "provider": provider,
    }
    data = open_market(_settings(), api_url).savings(params)
    if as_json:
        output.print_json(data)
        return
    rows = [
        ("cheapest", data["cheapest"], data["cheapest"]["offer"]["provider"]),
        ("median", data["median"], ""),
    ]
    if data["provider"]:
        rows.append(("provider", data["provider"], data["provider"]["offer"]["provider"]))
    output.print_table(
        f"{gpu_count}× {gpu}, {data['hours']:g} hours ({hours_per_day:g} h/day × {days:g} days)",
        [
            ("", "left"),
            ("PROVIDER", "left"),
            ("$/HOUR", "right"),
            ("PERIOD", "right"),
            ("PER MONTH", "right"),
        ],
        [
            (
                name,
                who,
                output.money(c["price_per_hour"]),
                output.money(c["period"]),
                output.money(c["per_month"]),
            )
            for name, c, who in rows
        ],
    )
    median = data["savings_vs_median"]
    click.echo(
        f"cheapest saves {output.money(median['period'])} ({median['pct']:.0f}%) vs the median"
        + (
            f", {output.money(data['savings_vs_provider']['period'])} vs {provider}"
            if data["savings_vs_provider"]
            else ""
        )
    )


@main.command()
@click.argument("offer_ids", nargs=-1, type=int, required=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@api_option
@handle_errors
def compare(offer_ids: tuple[int, ...], as_json: bool, api_url: str | None) -> None:
    """2-4 offers side by side: price, specs, value metrics and G-Score."""
    from gp4u.cli import output
    from gp4u.cli.market import open_market

    data = open_market(_settings(), api_url).compare(list(offer_ids))
    if as_json:
        output.print_json(data)
        return
    items = data["items"]
    rows: list[tuple[str, ...]] = [
        ("offer", *(str(i["offer"]["id"]) for i in items)),
        ("provider", *(i["offer"]["provider"] for i in items)),
        ("GPU", *(f"{i['offer']['gpu_count']}× {output.gpu_label(i['offer'])}" for i in items)),
        ("region", *(str(i["offer"]["region"]) for i in items)),
        ("$/hour", *(output.money(i["offer"]["price_per_hour"]) for i in items)),
        ("$/GPU-hour", *(output.money(i["offer"]["price_per_gpu_hour"]) for i in items)),
        ("$/PFLOP-hour", *(output.money(i["value"]["usd_per_pflop_hour"]) for i in items)),
        ("$/GB-VRAM-hour", *(output.money(i["value"]["usd_per_gb_vram_hour"]) for i in items)),
        (
            "$/M tokens (8B inference)",
            *(output.money(i["value"]["usd_per_mtok_inference"]) for i in items),
        ),
        (
            "$/M tokens (8B fine-tune)",
            *(output.money(i["value"]["usd_per_mtok_finetune"]) for i in items),
        ),
        ("reliability", *(str(i["offer"]["reliability"]) for i in items)),
        ("G-Score", *(f"{i['g_score']:.1f}" for i in items)),
    ]
    output.print_table(None, [("", "left")] + [("", "right")] * len(items), rows)
    click.echo(
        f"cheapest: offer {data['cheapest_offer_id']}; best value (G-Score): "
        f"offer {data['best_value_offer_id']}"
    )


@main.command(epilog=EPILOG_QUERY)
@click.argument("query", nargs=-1)
@click.option(
    "--weights",
    help="What matters, e.g. price:0.5,performance:0.3,reliability:0.2 (criteria: price, "
    "performance, vram, reliability, availability, region).",
)
@click.option("--regions", help="Preferred regions or countries, comma-separated.")
@click.option("--limit", type=int, default=10, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@api_option
@handle_errors
def recommend(
    query: tuple[str, ...],
    weights: str | None,
    regions: str | None,
    limit: int,
    as_json: bool,
    api_url: str | None,
) -> None:
    """The best offers for a job, ranked by TOPSIS; QUERY terms are hard constraints."""
    from gp4u.cli import output
    from gp4u.cli.market import open_market

    params = {"q": " ".join(query) or None, "weights": weights, "regions": regions, "limit": limit}
    data = open_market(_settings(), api_url).recommend(params)
    if as_json:
        output.print_json(data)
        return
    output.print_table(
        None,
        [
            ("#", "right"),
            ("SCORE", "right"),
            ("ID", "right"),
            ("PROVIDER", "left"),
            ("GPU", "left"),
            ("N", "right"),
            ("$/HOUR", "right"),
            ("WHY", "left"),
        ],
        [
            (
                i["rank"],
                f"{i['score']:.3f}",
                i["offer"]["id"],
                i["offer"]["provider"],
                output.gpu_label(i["offer"]),
                i["offer"]["gpu_count"],
                output.money(i["offer"]["price_per_hour"]),
                "+"
                + ", +".join(e["criterion"] for e in i["helped_by"])
                + (
                    "; -" + ", -".join(e["criterion"] for e in i["held_back_by"])
                    if i["held_back_by"]
                    else ""
                ),
            )
            for i in data["items"]
        ],
        caption=f"{data['considered']} offers met the constraints",
    )


@main.command()
@click.argument("gpu")
@click.option("--provider", help="Only this provider's offers.")
@click.option("--spot", is_flag=True, help="Spot prices instead of on-demand.")
@click.option("--count", "gpu_count", type=int, help="Only instances with this many GPUs.")
@click.option(
    "--resolution", type=click.Choice(["15m", "1h", "6h", "1d"]), default="1h", show_default=True
)
@click.option("--days", type=float, default=7.0, show_default=True)
@click.option("--forecast", "horizon", type=click.Choice(["24h", "7d"]), help="Add a forecast.")
@output_options
@api_option
@handle_errors
def history(
    gpu: str,
    provider: str | None,
    spot: bool,
    gpu_count: int | None,
    resolution: str,
    days: float,
    horizon: str | None,
    fmt: str,
    api_url: str | None,
) -> None:
    """Min and median $/GPU-hour of GPU over time (and a forecast with --forecast)."""
    from gp4u.cli import output
    from gp4u.cli.market import open_market

    market = open_market(_settings(), api_url)
    series = {"gpu": gpu, "provider": provider, "spot": spot, "gpu_count": gpu_count}
    data = market.history({**series, "resolution": resolution, "days": days})
    ahead = market.forecast({**series, "horizon": horizon}) if horizon else None
    if fmt == "json":
        output.print_json({**data, "forecast": ahead} if ahead else data)
        return
    items = data["items"]
    if fmt == "csv":
        output.print_csv(
            items, ["at", "min_price_per_gpu_hour", "median_price_per_gpu_hour", "offers"]
        )
        return
    output.print_table(
        f"{gpu} $/GPU-hour, every {resolution} over {days:g} days",
        [("AT", "left"), ("MIN", "right"), ("MEDIAN", "right"), ("OFFERS", "right")],
        [
            (
                i["at"][:16].replace("T", " "),
                output.money(i["min_price_per_gpu_hour"]),
                output.money(i["median_price_per_gpu_hour"]),
                i["offers"],
            )
            for i in items
        ],
    )
    if ahead:
        trend = ahead["trend"]
        last = ahead["items"][-1]
        click.echo(
            f"trend {trend['direction']} ({trend['pct_per_day']:+.2f}%/day); in {horizon}: "
            f"{output.money(last['median'])} ({output.money(last['lower'])}-"
            f"{output.money(last['upper'])}, {ahead['level']:.0%}); backtest MAPE "
            f"{ahead['backtest']['mape_pct']}%"
        )


@main.group()
def watch() -> None:
    """Price alerts: watch a query for a price at or below a threshold."""


@watch.command("add", epilog=EPILOG_QUERY)
@click.argument("query", nargs=-1, required=True)
@click.option("--below", "max_price", type=float, required=True, help="$/GPU-hour threshold.")
@click.option("--name", help="A name for the alert.")
@click.option("--webhook", help="Also POST each alert to this URL (signed).")
@api_option
@handle_errors
def watch_add(
    query: tuple[str, ...],
    max_price: float,
    name: str | None,
    webhook: str | None,
    api_url: str | None,
) -> None:
    """Alert when the cheapest offer matching QUERY is at or below --below $/GPU-hour."""
    from gp4u.cli.market import open_market

    created = open_market(_settings(), api_url).add_watch(
        {
            "query": " ".join(query),
            "max_price_per_gpu_hour": max_price,
            "name": name,
            "webhook_url": webhook,
        }
    )
    click.echo(f"watch {created['id']}: {created['name']} at or below ${max_price:g}/GPU-hour")
    if created.get("webhook_secret"):
        click.echo(f"webhook secret (shown once): {created['webhook_secret']}")


@watch.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@api_option
@handle_errors
def watch_list(as_json: bool, api_url: str | None) -> None:
    """Your watches and their state."""
    from gp4u.cli import output
    from gp4u.cli.market import open_market

    data = open_market(_settings(), api_url).watches()
    if as_json:
        output.print_json(data)
        return
    output.print_table(
        None,
        [
            ("ID", "right"),
            ("NAME", "left"),
            ("QUERY", "left"),
            ("BELOW", "right"),
            ("NOW", "right"),
            ("STATE", "left"),
            ("FIRED", "right"),
        ],
        [
            (
                w["id"],
                w["name"],
                w["query"],
                output.money(w["max_price_per_gpu_hour"]),
                output.money(w["last_price_per_gpu_hour"]),
                "firing" if w["firing"] else "armed",
                w["fired_count"],
            )
            for w in data["items"]
        ],
    )


@watch.command("rm")
@click.argument("watch_id", type=int)
@api_option
@handle_errors
def watch_rm(watch_id: int, api_url: str | None) -> None:
    """Delete a watch."""
    from gp4u.cli.market import open_market

    open_market(_settings(), api_url).remove_watch(watch_id)
    click.echo(f"watch {watch_id} deleted")


@main.group()
def audit() -> None:
    """Consistency checks."""


@audit.command("ledger")
@handle_errors
def audit_ledger() -> None:
    """Recompute every balance from the postings; check that all postings sum to zero, that
    every journal entry balances, that open holds equal escrow and that no account that may not
    go negative is. Exits 1 on any mismatch."""
    import asyncio

    from gp4u.db.engine import engine_from_settings, session_factory
    from gp4u.db.migrate import upgrade
    from gp4u.ledger import service

    async def check() -> list[str]:
        settings = _settings()
        await upgrade(settings.effective_database_url)
        engine = engine_from_settings(settings)
        try:
            async with session_factory(engine)() as session:
                return await service.audit(session)
        finally:
            await engine.dispose()

    problems = asyncio.run(check())
    for problem in problems:
        click.echo(problem)
    if problems:
        _fail(f"ledger audit failed: {len(problems)} problem(s)", 1)
    click.echo("ledger audit: ok")


@main.group()
def catalog() -> None:
    """Public price catalogs (SkyPilot vms.csv, gpuhunt CSV)."""


def _print_imports(results: list[Any], as_json: bool) -> None:
    from collections import Counter
    from dataclasses import asdict

    from gp4u.cli import output
    from gp4u.offers.service import skipped_total

    if as_json:
        output.print_json([asdict(r) for r in results])
        return
    output.print_table(
        None,
        [
            ("PROVIDER", "left"),
            ("ROWS", "right"),
            ("OFFERS", "right"),
            ("ADDED", "right"),
            ("CHANGED", "right"),
            ("UNCHANGED", "right"),
            ("GONE", "right"),
            ("SKIPPED", "left"),
        ],
        [
            (
                r.provider,
                r.rows_read,
                r.offers_read,
                r.added,
                r.changed,
                r.unchanged,
                r.gone,
                r.error or ", ".join(f"{k} {v}" for k, v in sorted(r.skipped.items())),
            )
            for r in results
        ],
    )
    skipped = skipped_total(results)
    unknown = sum(sum(r.unknown_gpus.values()) for r in results)
    fixed: Counter[str] = Counter()
    for r in results:
        fixed.update(r.fixed)
    click.echo(
        f"rows read {sum(r.rows_read for r in results)}, "
        f"offers upserted {sum(r.upserted for r in results)} "
        f"(added {sum(r.added for r in results)}, changed {sum(r.changed for r in results)}), "
        f"marked unavailable {sum(r.gone for r in results)}, "
        f"skipped {sum(skipped.values())}"
        + (
            " (" + ", ".join(f"{k}: {v}" for k, v in sorted(skipped.items())) + ")"
            if skipped
            else ""
        )
        + (f", offers with unrecognised GPU names {unknown}" if unknown else "")
        + (
            f", corrected {', '.join(f'{k}: {v}' for k, v in sorted(fixed.items()))}"
            if fixed
            else ""
        )
    )
    failed = [r for r in results if r.error]
    if failed:
        _fail(f"{len(failed)} provider(s) failed: " + ", ".join(r.provider for r in failed), 1)


def _run_job(job: Callable[[Any, Any], Any]) -> Any:
    import asyncio

    from gp4u.db.engine import engine_from_settings, session_factory
    from gp4u.db.migrate import upgrade
    from gp4u.kit.clock import SystemClock

    async def go() -> Any:
        settings = _settings()
        engine = engine_from_settings(settings)
        try:
            await upgrade(settings.effective_database_url)
            return await job(session_factory(engine), SystemClock())
        finally:
            await engine.dispose()

    return asyncio.run(go())


@catalog.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["skypilot", "gpuhunt"]),
    help="File format (default: detected from the header).",
)
@click.option("--provider", help="Provider of every file (default: from the folder or file name).")
@click.option("--json", "as_json", is_flag=True, help="Print the per-provider report as JSON.")
@handle_errors
def catalog_import(
    paths: tuple[Path, ...], fmt: str | None, provider: str | None, as_json: bool
) -> None:
    """Import catalog files into the local database.

    PATH is a catalog file or a directory laid out <provider>/vms.csv (SkyPilot) or
    <provider>.csv (gpuhunt). Re-importing is idempotent: changed prices go to the history,
    offers missing from a provider's new data are marked unavailable, and malformed rows are
    skipped with a counted reason.
    """
    from gp4u.offers import jobs
    from gp4u.providers.catalog.files import CatalogFormat

    chosen: CatalogFormat | None = "gpuhunt" if fmt == "gpuhunt" else "skypilot" if fmt else None
    results = _run_job(
        lambda sessions, clock: jobs.import_catalog_files(
            sessions, list(paths), clock, fmt=chosen, provider=provider
        )
    )
    _print_imports(results, as_json)


@main.command(name="sync")
@click.argument("names", nargs=-1)
@click.option("--json", "as_json", is_flag=True, help="Print each run's outcome as JSON.")
@handle_errors
def sync_command(names: tuple[str, ...], as_json: bool) -> None:
    """Sync providers into the local market now (all configured ones, or NAMES).

    Names are adapter names as `gp4u providers` lists them: vastai, runpod, lambda, tensordock,
    akash, local, catalog-aws… Providers sync concurrently; a failing one is reported (exit
    status 1) and never stops the others.
    """
    from dataclasses import asdict

    from gp4u.cli import output
    from gp4u.sources import service

    async def run(ctx: Any) -> list[Any]:
        unknown = [n for n in names if n not in ctx.providers.adapters]
        if unknown:
            known = ", ".join(sorted(ctx.providers.adapters))
            raise click.UsageError(f"unknown provider {', '.join(unknown)}; known: {known}")
        return await service.sync_many(ctx.sessions, ctx.providers, ctx.clock, list(names) or None)

    outcomes = _with_context(run)
    if as_json:
        output.print_json([asdict(o) for o in outcomes])
    else:
        output.print_table(
            None,
            [
                ("PROVIDER", "left"),
                ("STATUS", "left"),
                ("SECONDS", "right"),
                ("SEEN", "right"),
                ("ADDED", "right"),
                ("CHANGED", "right"),
                ("GONE", "right"),
                ("SKIPPED / ERROR", "left"),
            ],
            [
                (
                    o.name,
                    o.status,
                    f"{o.duration_ms / 1000:.2f}",
                    o.seen,
                    o.added,
                    o.changed,
                    o.gone,
                    (f"{o.error_kind}: {o.error}" if o.error else "")
                    or ", ".join(f"{k} {v}" for k, v in sorted(o.skipped.items())),
                )
                for o in outcomes
            ],
        )
    failed = [o.name for o in outcomes if o.status != "ok"]
    if failed:
        _fail(f"{len(failed)} provider(s) failed: {', '.join(failed)}", 1)


def _with_context(work: Callable[[Any], Any]) -> Any:
    """Run `work(job_context)` against the configured database, migrated first."""
    import asyncio

    from gp4u.db.engine import ensure_data_dir
    from gp4u.db.migrate import upgrade
    from gp4u.kit.logging import configure_logging
    from gp4u.worker.context import open_context

    async def go() -> Any:
        settings = _settings()
        configure_logging(settings.log_format, "WARNING")  # results alone on stdout
        ensure_data_dir(settings)
        await upgrade(settings.effective_database_url)
        ctx = open_context(settings)
        try:
            return await work(ctx)
        finally:
            await ctx.aclose()
            await ctx.engine.dispose()

    return asyncio.run(go())


@main.command()
@click.option("--concurrency", type=int, default=2, show_default=True, help="Worker processes.")
@click.option("--loglevel", default="INFO", show_default=True)
def worker(concurrency: int, loglevel: str) -> None:
    """Run a Celery worker (distributed mode; needs GP4U_REDIS_URL): executes jobs."""
    from gp4u.kit.logging import configure_logging
    from gp4u.worker.celery_app import QUEUE, create_celery

    settings = _settings()
    if not settings.redis_url:
        _fail("gp4u worker needs GP4U_REDIS_URL (the Celery broker)")
    configure_logging(settings.log_format, settings.log_level)
    app = create_celery(settings)
    app.worker_main(
        ["worker", f"--loglevel={loglevel}", f"--concurrency={concurrency}", "-Q", QUEUE]
    )


@main.command()
@click.option("--loglevel", default="INFO", show_default=True)
def scheduler(loglevel: str) -> None:
    """Run the Celery scheduler (beat): periodic syncs and the outbox relay. Run exactly one."""
    from gp4u.kit.logging import configure_logging
    from gp4u.worker.celery_app import create_celery

    settings = _settings()
    if not settings.redis_url:
        _fail("gp4u scheduler needs GP4U_REDIS_URL (the Celery broker)")
    configure_logging(settings.log_format, settings.log_level)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    app = create_celery(settings)
    app.start(["beat", f"--loglevel={loglevel}"])


FAKES = ("vastai", "runpod", "lambda", "tensordock", "akash", "catalog")


@main.command(name="fake-provider")
@click.argument("name", type=click.Choice(FAKES))
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=9100, show_default=True)
@click.option("--offers", "count", type=int, default=40, show_default=True, help="Offers to list.")
@click.option("--api-key", default="test-key", show_default=True, help="The key it accepts.")
def fake_provider(name: str, host: str, port: int, count: int, api_key: str) -> None:
    """Serve a fake provider API locally (a sandbox: point GP4U_<NAME>_URL at it; for
    `catalog`, GP4U_CATALOG_URL).

    It speaks the provider's real API, keeps instances, and has fault switches under /_fake/
    (POST /_fake/faults {"fail_all": true}, {"latency_ms": 500}, {"rate_limit_next": 3}…).
    """
    import importlib

    import uvicorn

    from gp4u.fakes.kit import FakeState

    module = importlib.import_module(f"gp4u.fakes.{'lambda_cloud' if name == 'lambda' else name}")
    state = FakeState(api_key=api_key, offers=module.generate_offers(count, 0))
    uvicorn.run(module.create_app(state), host=host, port=port, log_level="info")


if __name__ == "__main__":  # pragma: no cover
    main()
