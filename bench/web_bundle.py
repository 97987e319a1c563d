"""Web UI budget: the gzipped size of the JavaScript a browser loads before the first page
renders, i.e. the entry scripts and module preloads that web/dist/index.html names (lazy pages
are not counted). Build first (`make web`).

Target (issue 9): initial JavaScript under 300 KB gzipped.

    python bench/web_bundle.py [--dist web/dist]
"""

from __future__ import annotations

import argparse
import gzip
import json
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TARGET_KB = 300


class InitialAssets(HTMLParser):
    """The scripts and stylesheets index.html loads up front."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[str] = []
        self.styles: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "script" and a.get("src"):
            self.scripts.append(str(a["src"]))
        elif tag == "link" and a.get("rel") == "modulepreload" and a.get("href"):
            self.scripts.append(str(a["href"]))
        elif tag == "link" and a.get("rel") == "stylesheet" and a.get("href"):
            self.styles.append(str(a["href"]))


def sizes(dist: Path, urls: list[str]) -> list[dict[str, Any]]:
    out = []
    for url in dict.fromkeys(urls):  # once each, in order
        data = (dist / url.lstrip("/")).read_bytes()
        out.append({"file": url, "bytes": len(data), "gzip_bytes": len(gzip.compress(data, 9))})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dist", type=Path, default=ROOT / "web" / "dist")
    args = parser.parse_args()
    index = args.dist / "index.html"
    if not index.is_file():
        raise SystemExit(f"{index} not found: run `make web` first")
    assets = InitialAssets()
    assets.feed(index.read_text(encoding="utf-8"))
    scripts = sizes(args.dist, assets.scripts)
    styles = sizes(args.dist, assets.styles)
    js_gzip = sum(s["gzip_bytes"] for s in scripts)
    lazy = sorted(p.name for p in (args.dist / "assets").glob("*.js"))
    initial = {Path(s["file"]).name for s in scripts}
    print(
        json.dumps(
            {
                "initial_js_gzip_kb": round(js_gzip / 1024, 1),
                "initial_js_kb": round(sum(s["bytes"] for s in scripts) / 1024, 1),
                "target_kb": TARGET_KB,
                "within_target": js_gzip < TARGET_KB * 1024,
                "initial_js": scripts,
                "initial_css_gzip_kb": round(sum(s["gzip_bytes"] for s in styles) / 1024, 1),
                "lazy_js": [name for name in lazy if name not in initial],
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
