"""Print the documents the web UI is generated from, as stable JSON on stdout.

    python scripts/openapi.py                 # the OpenAPI document /api/openapi.json serves
    python scripts/openapi.py --query-fields  # the query language's fields, kinds and aliases
    python scripts/openapi.py --write DIR     # both, as DIR/openapi.json and DIR/fields.json

`make web-client` turns the first into web/src/api/schema.d.ts (openapi-typescript) and writes the
second to web/src/market/fields.json; `make web-client-check` fails when either is out of date.
The app is built but never started: the document does not depend on the database.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, TextIO

from gp4u.app import openapi_document
from gp4u.offers.fields import ALIASES, DEFAULT_SORT, FIELDS


def query_fields() -> dict[str, Any]:
    return {
        "fields": [
            {
                "name": f.name,
                "kind": f.kind.value,
                "nullable": f.nullable,
                "sortable": f.sortable,
                "description": f.description,
            }
            for f in FIELDS.values()
        ],
        "aliases": dict(sorted(ALIASES.items())),
        "default_sort": DEFAULT_SORT,
    }


def dump(document: dict[str, Any], out: TextIO, *, sort_keys: bool) -> None:
    json.dump(document, out, indent=2, sort_keys=sort_keys, ensure_ascii=False)
    out.write("\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--query-fields", action="store_true", help="print the query fields")
    parser.add_argument("--write", type=Path, metavar="DIR", help="write both files into DIR")
    args = parser.parse_args()
    if args.write:
        args.write.mkdir(parents=True, exist_ok=True)
        with (args.write / "openapi.json").open("w", encoding="utf-8") as out:
            dump(openapi_document(), out, sort_keys=True)
        with (args.write / "fields.json").open("w", encoding="utf-8") as out:
            dump(query_fields(), out, sort_keys=False)
    elif args.query_fields:
        dump(query_fields(), sys.stdout, sort_keys=False)
    else:
        dump(openapi_document(), sys.stdout, sort_keys=True)


if __name__ == "__main__":
    main()
