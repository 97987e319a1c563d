"""gpuhunt catalog parsing (dstack's CSV format)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from gp4u.providers.catalog.files import find_catalog_files, parse_catalog, parse_files

GPUHUNT = """\
instance_name,location,price,cpu,memory,gpu_count,gpu_name,gpu_memory,spot,disk_size,gpu_vendor,flags
p4d.24xlarge,us-east-1,32.7726,96,1152,8,A100,40.0,False,,nvidia,
p4d.24xlarge,us-east-1,11.5,96,1152,8,A100,40.0,True,,nvidia,
g5.xlarge,eu-west-1,1.123,4,16,1,A10G,24.0,False,,nvidia,
m5.large,us-east-1,0.096,2,8,0,,,False,,,
bad,us-east-1,abc,4,16,1,T4,16.0,False,,nvidia,
maybe,us-east-1,0.5,4,16,1,T4,16.0,perhaps,,nvidia,
"""


def test_gpuhunt_rows_become_offers_with_spot_as_a_row_attribute() -> None:
    report = parse_catalog(GPUHUNT, "aws")
    assert [(o.instance_type, o.spot, o.price_per_hour) for o in report.offers] == [
        ("p4d.24xlarge", False, 32_772_600),
        ("p4d.24xlarge", True, 11_500_000),
        ("g5.xlarge", False, 1_123_000),
    ]
    assert report.offers[2].country == "IE"
    assert report.skipped == Counter({"no_gpu": 1, "bad_price": 1, "bad_spot_flag": 1})


def test_gpuhunt_files_take_their_provider_from_the_file_name(tmp_path: Path) -> None:
    (tmp_path / "aws.csv").write_text(GPUHUNT)
    files = find_catalog_files([tmp_path])
    assert [f.provider for f in files] == ["aws"]
    assert len(parse_files(files)["aws"].offers) == 3
