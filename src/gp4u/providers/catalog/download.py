"""Downloads published SkyPilot catalogs over HTTP: `<base_url>/<provider>/vms.csv`.

Each provider is fetched and parsed on its own; one that fails (unreachable, 404, not a catalog)
is reported with its reason and never stops the others."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from gp4u.providers.base import ParseReport, ProviderError
from gp4u.providers.catalog.files import parse_catalog
from gp4u.providers.http import ProviderHttp, Transport


@dataclass
class Download:
    provider: str
    url: str
    report: ParseReport | None = None
    error: str | None = None


async def _fetch_one(
    base_url: str, provider: str, http_timeout: float, transport: Transport | None
) -> Download:
    url = f"{base_url.rstrip('/')}/{provider}/vms.csv"
    try:
        async with ProviderHttp(
            provider,
            timeout=http_timeout,
            connect_timeout=min(http_timeout, 5.0),
            attempts=2,
            max_seconds=http_timeout * 2,
            transport=transport,
        ) as http:
            text = await http.get_text(url)
        report = await asyncio.to_thread(parse_catalog, text, provider, "skypilot")
    except ProviderError as exc:
        return Download(provider, url, error=exc.message)
    except ValueError as exc:
        return Download(provider, url, error=str(exc))
    return Download(provider, url, report=report)


async def download_catalogs(
    base_url: str,
    providers: list[str],
    *,
    http_timeout: float = 20.0,
    concurrency: int = 4,
    transport: Transport | None = None,
) -> list[Download]:
    """Fetch every provider's catalog, a few at a time; results in the order asked."""
    gate = asyncio.Semaphore(concurrency)

    async def limited(provider: str) -> Download:
        async with gate:
            return await _fetch_one(base_url, provider, http_timeout, transport)

    return list(await asyncio.gather(*(limited(p) for p in providers)))
