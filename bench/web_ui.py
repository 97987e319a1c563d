"""Web UI benchmark in Debian's Chromium against a real `gp4u serve` with a large market.

- first results: from navigating to the marketplace to the first offer rows on screen, with the
  assets cached (a returning user) and, once, cold; for all offers and for `gpu=H100`;
- scrolling: the table holding 10,000+ offers (pages fetched as it scrolls), then scrolled from
  top to bottom in steps, one per animation frame: frame times and how many rows are in the DOM.

Target (issue 9): first results within 1 s of navigation with 100k offers. The server warms the
market up at start (the search index and the first search, `offers.service.warm_up`), and the
cold figure is taken once that is done, as for a visitor arriving after a start. Build the UI
first (`make web`, or any build with --dist); needs /usr/bin/chromium.

    python bench/web_ui.py [--offers 100000] [--runs 5] [--dist web/dist]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from common import emit, fresh_database
from search import GP4U, free_port, load

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DIST = Path(__file__).resolve().parents[1] / "web" / "dist"
TARGET_SECONDS = 1.0
ROW = "[role=row][data-offer-id]"

# Scroll the table by `step` px per animation frame (null: to the end in `frames` jumps);
# frame times and the most rows ever in the DOM.
SCROLL_JS = """async ([frames, step]) => {
    const table = document.querySelector('[role=table]');
    const end = table.scrollHeight - table.clientHeight;
    const times = [];
    let rows = 0;
    table.scrollTop = 0;
    await new Promise(requestAnimationFrame);
    let last = performance.now();
    for (let i = 1; i <= frames; i++) {
        table.scrollTop = step === null ? end * i / frames : i * step;
        await new Promise(requestAnimationFrame);
        const now = performance.now();
        times.push(now - last);
        last = now;
        rows = Math.max(rows, table.querySelectorAll('[data-offer-id]').length);
    }
    return { times, rows };
}"""

LOADED_JS = "() => Number(document.querySelector('.result-count').textContent.replace(/\\D/g, ''))"
TO_END_JS = "() => { const t = document.querySelector('[role=table]'); t.scrollTop = 1e9; }"

# Where the time of a page load went (ms from navigation start).
PHASES_JS = """() => {
    const nav = performance.getEntriesByType('navigation')[0];
    const loaded = performance.getEntriesByType('resource');
    const api = loaded.filter(r => r.name.includes('/api/v1/offers'));
    const scripts = loaded.filter(r => r.name.endsWith('.js'));
    return {
        document_ms: Math.round(nav.responseEnd),
        scripts_loaded_ms: Math.round(Math.max(0, ...scripts.map(s => s.responseEnd))),
        offers_request_start_ms: api.length ? Math.round(api[0].startTime) : null,
        offers_response_end_ms: api.length ? Math.round(api[0].responseEnd) : null,
    };
}"""


def first_results(page: Any, path: str) -> float:
    started = time.perf_counter()
    page.goto(path, wait_until="commit")
    page.wait_for_selector(ROW, timeout=30_000)
    return time.perf_counter() - started


def load_rows(page: Any, wanted: int) -> int:
    """Scroll to the end until `wanted` rows are loaded (or there are no more)."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        table = page.locator("[role=table]")
        loaded = page.evaluate(LOADED_JS)
        if loaded >= wanted or table.get_attribute("aria-rowcount") != "-1":
            return int(loaded)
        page.evaluate(TO_END_JS)
        page.wait_for_timeout(150)
    raise RuntimeError("rows did not load")


def serve(url: str, dist: Path) -> tuple[subprocess.Popen[bytes], str]:
    """`gp4u serve` on the bench database and the given UI build, once its search index is
    ready and its start-up warm-up has run (its log line says so)."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GP4U_")}
    env.update(
        GP4U_DATABASE_URL=url,
        GP4U_WEB_DIST=str(dist),
        GP4U_CATALOG_URL="",
        GP4U_SIMULATED_MARKET="false",
        GP4U_PROVIDERS="",  # no background syncs: the market stays as loaded
        GP4U_LOG_LEVEL="INFO",
    )
    process = subprocess.Popen(
        [GP4U, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    assert process.stdout is not None
    deadline = time.monotonic() + 300
    for line in process.stdout:  # the warm-up logs once, after the index is built
        if b"market warm" in line or time.monotonic() > deadline:
            break
    # Keep draining the log so the server never blocks on a full pipe.
    threading.Thread(target=lambda: [None for _ in process.stdout or ()], daemon=True).start()
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/readyz", timeout=2).json()["search_index"]["state"] == "ready":
                return process, base
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    process.kill()
    raise RuntimeError("server did not start")


def run(offers: int, runs: int, dist: Path) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    url = fresh_database("sqlite", "webui")
    asyncio.run(load(url, offers))
    process, base = serve(url, dist)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
            context = browser.new_context(viewport={"width": 1280, "height": 800}, base_url=base)
            page = context.new_page()
            cold = first_results(page, "/")
            results: dict[str, Any] = {
                "cold_all_s": round(cold, 3),
                "cold": page.evaluate(PHASES_JS),
            }
            for name, path in (("all", "/"), ("h100", "/?q=gpu%3DH100&sort=price_per_hour")):
                samples = [first_results(page, path) for _ in range(runs)]
                results[f"warm_{name}_median_s"] = round(statistics.median(samples), 3)
                results[f"warm_{name}_max_s"] = round(max(samples), 3)
            page.goto("/?q=gpu_memory_gb%3E%3D40")
            page.wait_for_selector(ROW)
            loaded = load_rows(page, 12_000)
            wheel = frame_stats(page.evaluate(SCROLL_JS, [300, 120]))
            fling = frame_stats(page.evaluate(SCROLL_JS, [400, None]))
            browser.close()
    finally:
        process.terminate()
        process.wait(timeout=30)
    return {
        "offers": offers,
        "first_results": results,
        "target_s": TARGET_SECONDS,
        "within_target": results["warm_all_median_s"] <= TARGET_SECONDS,
        "scroll": {"rows_loaded": loaded, "wheel_120px_per_frame": wheel, "fling_to_end": fling},
    }


def frame_stats(scroll: dict[str, Any]) -> dict[str, Any]:
    times = sorted(scroll["times"])
    return {
        "frames": len(times),
        "frame_ms_p50": round(times[len(times) // 2], 1),
        "frame_ms_p95": round(times[int(len(times) * 0.95)], 1),
        "frame_ms_max": round(times[-1], 1),
        "max_rows_in_dom": scroll["rows"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--offers", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--dist", type=Path, default=DIST, help="the UI build to serve")
    args = parser.parse_args()
    if not (args.dist / "index.html").is_file():
        raise SystemExit(f"{args.dist} has no UI build: run `make web` first")
    emit(run(args.offers, args.runs, args.dist))


if __name__ == "__main__":
    main()
