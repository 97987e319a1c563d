"""Finds catalog files on disk, tells SkyPilot from gpuhunt by their header, and parses them per
provider. Layouts: a directory of `<provider>/*.csv` (SkyPilot's `<provider>/vms.csv`), a
directory of `<provider>.csv` (gpuhunt), or single files."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from gp4u.providers.base import ParseReport
from gp4u.providers.catalog.gpuhunt import parse_gpuhunt
from gp4u.providers.catalog.skypilot import parse_skypilot

CatalogFormat = Literal["skypilot", "gpuhunt"]
FORMATS: tuple[CatalogFormat, ...] = ("skypilot", "gpuhunt")


@dataclass(frozen=True)
class CatalogFile:
    provider: str
    path: Path


def detect_format(text: str) -> CatalogFormat:
    header = {h.strip() for h in text.split("\n", 1)[0].split(",")}
    if {"InstanceType", "AcceleratorName"} <= header:
        return "skypilot"
    if {"instance_name", "gpu_name"} <= header:
        return "gpuhunt"
    raise ValueError(
        "unrecognised catalog header: expected SkyPilot (InstanceType, AcceleratorName, …) "
        "or gpuhunt (instance_name, gpu_name, …) columns"
    )


def parse_catalog(text: str, provider: str, fmt: CatalogFormat | None = None) -> ParseReport:
    """Parse one catalog file's text; an empty file is an error, not an empty market."""
    if not text.strip():
        raise ValueError("the catalog is empty")
    chosen = fmt or detect_format(text)
    return parse_skypilot(text, provider) if chosen == "skypilot" else parse_gpuhunt(text, provider)


def _provider_of(path: Path, in_named_folder: bool) -> str:
    # SkyPilot files are named vms*.csv inside a folder named after the cloud; gpuhunt files are
    # named after the provider. A SkyPilot table with another name (runpod's
    # gpu_price_summary_v7_partial.csv) belongs to its folder when a folder was given.
    if path.name.startswith("vms"):
        return path.parent.name
    if in_named_folder:
        with path.open(encoding="utf-8-sig", errors="replace") as handle:
            header = handle.readline()
        try:
            if detect_format(header) == "skypilot":
                return path.parent.name
        except ValueError:
            pass
    return path.stem


def find_catalog_files(paths: list[Path], provider: str | None = None) -> list[CatalogFile]:
    """Every catalog file under the given paths, with the provider it belongs to."""
    found: list[CatalogFile] = []
    for path in paths:
        if not path.exists():
            raise FileNotFoundError(f"no such file or directory: {path}")
        if path.is_file():
            found.append(CatalogFile(provider or _provider_of(path, in_named_folder=False), path))
            continue
        for csv_path in sorted(path.glob("*.csv")):
            found.append(CatalogFile(provider or _provider_of(csv_path, True), csv_path))
        for csv_path in sorted(path.glob("*/*.csv")):
            found.append(CatalogFile(provider or csv_path.parent.name, csv_path))
    if not found:
        raise FileNotFoundError("no .csv catalog files found in " + ", ".join(map(str, paths)))
    return found


def parse_files(
    files: list[CatalogFile], fmt: CatalogFormat | None = None
) -> dict[str, ParseReport]:
    """Parse files and merge them per provider (one provider's files form one import)."""
    reports: dict[str, ParseReport] = {}
    for item in files:
        text = item.path.read_text(encoding="utf-8-sig")
        try:
            report = parse_catalog(text, item.provider, fmt)
        except ValueError as exc:
            raise ValueError(f"{item.path}: {exc}") from exc
        reports.setdefault(item.provider, ParseReport()).merge(report)
    return reports
