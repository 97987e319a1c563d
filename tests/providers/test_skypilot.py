"""SkyPilot catalog parsing over the real files in ../shared/data/catalogs, and their quirks."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from gp4u.kit.money import usd_to_micros
from gp4u.providers.base import ParseReport, ProviderOffer
from gp4u.providers.catalog.files import find_catalog_files, parse_catalog, parse_files
from gp4u.providers.catalog.skypilot import gpu_memory_from_info, parse_skypilot
from tests.conftest import CATALOGS


@pytest.fixture(scope="module")
def reports() -> dict[str, ParseReport]:
    return parse_files(find_catalog_files([CATALOGS]))


def _find(report: ParseReport, **match: object) -> list[ProviderOffer]:
    return [o for o in report.offers if all(getattr(o, k) == v for k, v in match.items())]


def test_every_provider_folder_is_read(reports: dict[str, ParseReport]) -> None:
    assert set(reports) == {
        "azure",
        "cudo",
        "do",
        "fluidstack",
        "hyperbolic",
        "lambda",
        "nebius",
        "oci",
        "paperspace",
        "primeintellect",
        "runpod",
        "shadeform",
        "vast",
    }


def test_lambda_8x_h100_on_demand_price(reports: dict[str, ParseReport]) -> None:
    offers = _find(reports["lambda"], instance_type="gpu_8x_h100_sxm5", spot=False)
    assert offers and {o.price_per_hour for o in offers} == {usd_to_micros("31.92")}
    assert all(o.gpu_count == 8 and o.gpu_name == "H100" for o in offers)
    assert {o.region for o in offers} >= {"europe-central-1", "asia-south-1"}
    regions = {o.region: o.country for o in offers}
    assert regions["europe-central-1"] == "DE"


@pytest.mark.parametrize(
    ("provider", "rows", "offers", "skipped"),
    [
        ("lambda", 425, 391, {"no_gpu": 34}),
        ("azure", 56671, 1422, {"no_gpu": 55842, "fractional_gpu": 108}),
        ("do", 38, 2, {"no_gpu": 36}),
        ("nebius", 61, 29, {"no_gpu": 40}),
        ("paperspace", 19, 14, {"no_gpu": 5}),
        ("primeintellect", 190, 115, {"no_gpu": 75}),
        ("runpod", 75, 107, {}),
        ("vast", 67, 67, {}),
        ("shadeform", 118, 118, {}),
        ("cudo", 156, 156, {}),
        ("oci", 21, 25, {}),
        ("hyperbolic", 3, 3, {}),
        ("fluidstack", 1, 1, {}),
    ],
)
def test_rows_offers_and_skip_reasons_per_catalog(
    reports: dict[str, ParseReport], provider: str, rows: int, offers: int, skipped: dict[str, int]
) -> None:
    report = reports[provider]
    assert (report.rows_read, len(report.offers), dict(report.skipped)) == (rows, offers, skipped)


def test_runpod_swapped_spot_prices_are_corrected(reports: dict[str, ParseReport]) -> None:
    runpod = reports["runpod"]
    assert runpod.fixed == Counter({"spot_on_demand_swapped": 4})
    on_demand = _find(runpod, instance_type="1x_L40S_SECURE", spot=False)[0]
    spot = _find(runpod, instance_type="1x_L40S_SECURE", spot=True)[0]
    assert (on_demand.price_per_hour, spot.price_per_hour) == (860_000, 430_000)
    assert on_demand.memory_gb is None  # RunPod's MemoryGiB is the GPUs' memory, not the host's


def test_vast_zero_spot_means_no_spot_and_regions_carry_countries(
    reports: dict[str, ParseReport],
) -> None:
    vast = reports["vast"]
    assert not [o for o in vast.offers if o.spot]
    germany = _find(vast, instance_type="1x-RTX_4090-32-65536", region="Germany, DE, EU")[0]
    assert (germany.price_per_hour, germany.country) == (400_000, "DE")


def test_primeintellect_region_is_the_country(reports: dict[str, ParseReport]) -> None:
    offer = _find(
        reports["primeintellect"],
        instance_type="datacrunch__8xH100_80GB__176__1480",
        region="ICE-01",
    )[0]
    assert (offer.country, offer.zone, offer.price_per_hour) == ("IS", None, 15_770_000)


def test_cudo_float_noise_becomes_exact_micros(reports: dict[str, ParseReport]) -> None:
    offer = _find(reports["cudo"], instance_type="ice-lake-a40-compute_1x2v4gb")[0]
    assert offer.price_per_hour == 369_800  # 0.36979999999999996 in the file


@pytest.mark.parametrize(
    ("info", "gb"),
    [
        ("{'Gpus': [{'Name': 'A40', 'MemoryInfo': {'SizeInMiB': 49152}}]}", 48.0),  # python literal
        ('{"Gpus":[{"Name":"A100-80GB","MemoryInfo":{"SizeInMiB":81920}}]}', 80.0),  # JSON
        ("{'gpus': [{'name': 'h100', 'memoryinfo': {'sizeinmib': 81920}}]}", 80.0),  # DO lower case
        ("{'Gpus': [{'Name': 'A6000', 'MemoryInfo': {'SizeInMiB': 48}}]}", 48.0),  # Shadeform GB
        ("H100", None),  # Azure / Paperspace: a bare name
        ("{not a dict", None),
        ("", None),
    ],
)
def test_gpu_info_dialects(info: str, gb: float | None) -> None:
    assert gpu_memory_from_info(info) == gb


GCP = """\
InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,GpuInfo,Price,SpotPrice,Region,AvailabilityZone
n1-standard-8,,,8,30,,0.38,0.08,us-central1,us-central1-a
n1-standard-16,,,16,60,,0.76,0.16,us-central1,us-central1-a
a2-highgpu-1g,,,12,85,,0.734,0.22,us-central1,us-central1-a
,T4,1,,,T4,0.35,0.11,us-central1,us-central1-a
,T4,2,,,T4,0.70,0.22,us-central1,us-central1-a
,A100,1,,,A100,2.934,0.88,us-central1,us-central1-a
,V100,1,,,V100,2.48,0.74,europe-west4,europe-west4-a
a3-highgpu-8g,H100,8,208,1872,"{'Gpus': [{'Name': 'H100', 'Count': 8, 'MemoryInfo': {'SizeInMiB': 81920}}]}",88.25,22.06,us-central1,us-central1-a
"""


def test_separately_priced_accelerators_are_joined_to_their_host() -> None:
    report = parse_skypilot(GCP, "gcp")
    by_key = {(o.instance_type, o.gpu_name, o.gpu_count, o.spot): o for o in report.offers}
    t4 = by_key[("n1-standard-8", "T4", 1, False)]
    assert (t4.price_per_hour, t4.vcpus, t4.memory_gb) == (730_000, 8, 30)  # 0.38 + 0.35
    assert by_key[("n1-standard-16", "T4", 2, True)].price_per_hour == 380_000  # 0.16 + 0.22
    assert by_key[("a2-highgpu-1g", "A100", 1, False)].price_per_hour == 3_668_000
    assert by_key[("a3-highgpu-8g", "H100", 8, False)].price_per_hour == 88_250_000
    assert report.skipped == Counter({"no_gpu": 3, "no_host_vm": 1})  # no n1 host in europe-west4
    assert report.offers[0].zone == "us-central1-a"


def test_malformed_rows_are_skipped_and_the_rest_import() -> None:
    text = (
        "InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,Price,Region,SpotPrice\n"
        "ok-1,H100,1,16,100,2.50,us-east-1,\n"
        "too,many,fields,1,2,3,4,5,6\n"
        "bad-price,H100,1,16,100,two dollars,us-east-1,\n"
        "no-price,H100,1,16,100,,us-east-1,\n"
        "negative,H100,1,16,100,-1,us-east-1,\n"
        "bad-count,H100,x,16,100,2.5,us-east-1,\n"
        "zero-count,H100,0,16,100,2.5,us-east-1,\n"
        "cpu-only,,,16,100,0.5,us-east-1,\n"
        "ok-2,A100-80GB,2,16,100,3.00,us-west-2,1.00\n"
    )
    report = parse_skypilot(text, "acme")
    assert [o.instance_type for o in report.offers] == ["ok-1", "ok-2", "ok-2"]
    assert report.skipped == Counter(
        {"malformed_row": 1, "bad_price": 2, "missing_price": 1, "bad_gpu_count": 2, "no_gpu": 1}
    )
    assert report.examples["bad_price"] == [4, 6]


def test_empty_and_foreign_files_are_refused() -> None:
    with pytest.raises(ValueError, match="empty"):
        parse_catalog("", "acme")
    with pytest.raises(ValueError, match="unrecognised catalog header"):
        parse_catalog("a,b,c\n1,2,3\n", "acme")
    with pytest.raises(ValueError, match="missing column"):
        parse_catalog("InstanceType,AcceleratorName\nx,H100\n", "acme", "skypilot")


def test_header_only_catalog_has_no_offers() -> None:
    report = parse_catalog("InstanceType,AcceleratorName,AcceleratorCount,Price\n", "acme")
    assert (report.rows_read, report.offers) == (0, [])


def test_a_skypilot_table_not_named_vms_belongs_to_its_folder() -> None:
    (runpod,) = find_catalog_files([CATALOGS / "runpod"])
    assert runpod.provider == "runpod"  # gpu_price_summary_v7_partial.csv, SkyPilot columns
    (lam,) = find_catalog_files([CATALOGS / "lambda" / "vms.csv"])
    assert lam.provider == "lambda"


def test_a_lone_file_is_named_after_itself(tmp_path: Path) -> None:
    lone = tmp_path / "runpod.csv"
    lone.write_text((CATALOGS / "runpod" / "gpu_price_summary_v7_partial.csv").read_text())
    (found,) = find_catalog_files([lone])
    assert found.provider == "runpod"
