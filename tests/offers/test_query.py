"""The compact query language: what it accepts and how it reads values."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from gp4u.catalog.normalise import GpuName
from gp4u.kit.errors import InvalidQuery
from gp4u.offers.query import Condition, build_query, parse_conditions


def test_the_issue_example() -> None:
    conditions = parse_conditions(
        "gpu=H100 gpu_count>=8 price_per_gpu_hour<2.5 country in [US,CA] spot=false"
    )
    assert conditions == (
        Condition("gpu", "=", (GpuName("H100", None, None, True),)),
        Condition("gpu_count", ">=", (8,)),
        Condition("price_per_gpu_hour", "<", (2_500_000,)),
        Condition("country", "in", ("US", "CA")),
        Condition("spot", "=", (False,)),
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("num_gpus = 4", Condition("gpu_count", "=", (4,))),
        ("gpu_ram>=48", Condition("gpu_memory_gb", ">=", (48,))),
        ('region~"US EAST"', Condition("region", "~", ("us east",))),
        (
            "region notin ['us-east-1', eu-west-1]",
            Condition("region", "notin", ("us-east-1", "eu-west-1")),
        ),
        ("provider==Lambda", Condition("provider", "=", ("lambda",))),
        ("zone=null", Condition("zone", "=", (None,))),
        ("price_per_hour<=$10", Condition("price_per_hour", "<=", (10_000_000,))),
        ("gpu_variant=sxm5", Condition("gpu_variant", "=", ("SXM",))),
        (
            "updated_at>=2026-11-01",
            Condition("updated_at", ">=", (datetime(2026, 11, 1, tzinfo=UTC),)),
        ),
        ("reliability>0.95", Condition("reliability", ">", (0.95,))),
        ("gpu~h1", Condition("gpu", "~", ("h1",))),
        ("AVAILABLE=no", Condition("available", "=", (False,))),
    ],
)
def test_terms(text: str, expected: Condition) -> None:
    assert parse_conditions(text) == (expected,)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("gpu=H100 SXM", "unknown field 'SXM'"),
        ("gpu_count=1.5", "expected a whole number"),
        ("gpu_count=null", "never missing"),
        ("reliability<null", "null can only be used with = or !="),
        ("vcpus=nan", "expected a number"),
        ("gpu in []", "empty list"),
        ("gpu in H100", "expected a list"),
        ("spot>true", "needs a numeric or time field"),
        ("=H100", "expected a field name"),
        ("gpu_count >< 4", "one operator per term"),
        ("updated_at>yesterday", "ISO 8601"),
    ],
)
def test_errors_name_the_problem(text: str, message: str) -> None:
    with pytest.raises(InvalidQuery, match=message):
        parse_conditions(text)


def test_sort_and_limit() -> None:
    assert (build_query(sort="-vcpus").sort, build_query(sort="-vcpus").desc) == ("vcpus", True)
    assert build_query(sort="price_per_hour:desc").desc
    assert build_query(sort="num_gpus").sort == "gpu_count"
    assert build_query().limit == 50
    with pytest.raises(InvalidQuery) as error:
        build_query(limit=1001)
    assert error.value.extra["field"] == "limit"
