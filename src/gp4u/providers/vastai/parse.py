"""Pure readers of Vast.ai answers: offer-search bundles → `ProviderOffer`s, instance records →
`Instance`s, error bodies → provider errors. No I/O.

Units as Vast states them: `gpu_ram`/`gpu_total_ram`/`cpu_ram` in MB (MiB in practice, what
nvidia-smi reports, so divided by 1024), `disk_space` in GB, `inet_up`/`inet_down` in Mbps,
`dph_total` in $/h for the whole offer (all its GPUs, storage at the search's default size
included), `min_bid` the floor of an interruptible bid in $/h for the whole offer.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from gp4u.kit.money import usd_to_micros
from gp4u.providers.base import (
    InvalidResponse,
    NoCapacity,
    ParseReport,
    ProviderAuthError,
    ProviderError,
    ProviderOffer,
    ProviderRejected,
)
from gp4u.providers.catalog.regions import country_of
from gp4u.providers.interface import Instance, InstanceState, Tags

MB_PER_GB = 1024
_COUNTRY = re.compile(r"^[A-Z]{2}$")
# Refusals about the request itself; any other 403 means the key may not do this.
_REQUEST_ERRORS = frozenset({"invalid_args", "invalid_price", "no_such_ask", "invalid_request"})

# actual_status (container state) → our state; see docs.vast.ai "show instance".
_STATES: Mapping[str | None, InstanceState] = {
    None: InstanceState.PENDING,  # being provisioned
    "created": InstanceState.BOOTING,
    "loading": InstanceState.BOOTING,  # pulling the image, starting the container
    "rebooting": InstanceState.BOOTING,
    "running": InstanceState.RUNNING,
    "stopped": InstanceState.STOPPED,  # disk still billed
    "frozen": InstanceState.STOPPED,  # paused with memory kept
    "exited": InstanceState.FAILED,  # the container process exited unexpectedly
    "unknown": InstanceState.UNKNOWN,  # no recent heartbeat from the host
    "offline": InstanceState.UNKNOWN,  # host disconnected from Vast
}


class _Skip(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class InstancePage:
    """One page of `GET /api/v1/instances/`."""

    instances: list[Instance]
    next_token: str | None


def offer_records(payload: Any, provider: str) -> list[Any]:
    """The records of an offer search. Live, `offers` is an array; the docs show it as one
    object; `vastai search offers --raw` prints the bare array. Anything else is unusable."""
    if isinstance(payload, list):
        return payload
    if not isinstance(payload, Mapping) or "offers" not in payload:
        raise InvalidResponse(provider, "offer search answer has no `offers`")
    offers = payload["offers"]
    if isinstance(offers, Mapping):
        return [offers]
    if isinstance(offers, list):
        return offers
    raise InvalidResponse(provider, f"offer search `offers` is {type(offers).__name__}")


def parse_offers(payload: Any, provider: str, *, spot: bool = False) -> ParseReport:
    """Every usable offer of one search answer (on-demand, or interruptible when `spot`), and
    why each other record was skipped."""
    report = ParseReport()
    seen: set[tuple[str, str | None]] = set()
    for index, record in enumerate(offer_records(payload, provider)):
        report.rows_read += 1
        try:
            offer, fixed = _offer(record, provider, spot)
        except _Skip as skip:
            report.skip(skip.reason, index)
            continue
        key = (offer.instance_type, offer.region)
        if key in seen:
            report.skip("duplicate_offer", index)
            continue
        seen.add(key)
        if fixed:
            report.fixed[fixed] += 1
        report.offers.append(offer)
    return report


def instance_type(machine_id: int, num_gpus: int) -> str:
    """Our name for an offer of `num_gpus` GPUs on one Vast machine (unique per search)."""
    return f"vast-{machine_id}-{num_gpus}x"


def _offer(record: Any, provider: str, spot: bool) -> tuple[ProviderOffer, str | None]:
    if not isinstance(record, Mapping):
        raise _Skip("not_an_object")
    if record.get("rentable") is False:
        raise _Skip("not_rentable")
    if record.get("rented") is True:
        raise _Skip("rented")
    ask = _count(record.get("id"))
    if ask is None:
        raise _Skip("missing_id")
    machine = _count(record.get("machine_id"))
    if machine is None:
        raise _Skip("missing_machine_id")
    gpu_name = record.get("gpu_name")
    if not isinstance(gpu_name, str) or not gpu_name.strip():
        raise _Skip("missing_gpu_name")
    gpus = _count(record.get("num_gpus"))
    if gpus is None:
        raise _Skip("bad_gpu_count")
    price, fixed = _bid_price(record) if spot else _on_demand_price(record)
    geolocation = _text(record.get("geolocation"))
    offer = ProviderOffer(
        provider=provider,
        instance_type=instance_type(machine, gpus),
        gpu_name=gpu_name.strip(),
        gpu_count=gpus,
        price_per_hour=price,
        spot=spot,
        region=geolocation,
        country=country_of_geolocation(geolocation),
        gpu_memory_gb=_gpu_memory_gb(record, gpus),
        vcpus=_number(record.get("cpu_cores_effective")),
        memory_gb=_memory_gb(record),
        disk_gb=_number(record.get("disk_space")),
        reliability=_fraction(record.get("reliability2", record.get("reliability"))),
        offer_ref=str(ask),
        available_count=1 if record.get("rentable") is True else None,
        dlperf=_number(record.get("dlperf")),
        inet_down_mbps=_number(record.get("inet_down")),
        inet_up_mbps=_number(record.get("inet_up")),
    )
    return offer, fixed


def _on_demand_price(record: Mapping[str, Any]) -> tuple[int, str | None]:
    """`dph_total`; some copies (proxies, old captures) only carry the `search.totalHour`
    breakdown, which is the same amount."""
    if "dph_total" in record:
        return _price(record["dph_total"]), None
    breakdown = record.get("search")
    if isinstance(breakdown, Mapping) and "totalHour" in breakdown:
        return _price(breakdown["totalHour"]), "price_from_search_total"
    raise _Skip("missing_price")


def _bid_price(record: Mapping[str, Any]) -> tuple[int, str | None]:
    if record.get("min_bid") is None:
        raise _Skip("missing_bid_price")
    return _price(record["min_bid"]), None


def _price(value: Any) -> int:
    amount = _number(value)
    if amount is None or amount <= 0:
        raise _Skip("bad_price")
    micros = usd_to_micros(amount)
    if micros <= 0:
        raise _Skip("bad_price")
    return micros


def _gpu_memory_gb(record: Mapping[str, Any], gpus: int) -> float | None:
    per_gpu = _number(record.get("gpu_ram"))
    if per_gpu is None:
        total = _number(record.get("gpu_total_ram"))
        per_gpu = total / gpus if total is not None else None
    return round(per_gpu / MB_PER_GB, 2) if per_gpu else None


def _memory_gb(record: Mapping[str, Any]) -> float | None:
    """The offer's share of the host's RAM: `cpu_ram` is the whole host's, and an offer gets
    the same share of it as of the host's CPU cores."""
    ram = _number(record.get("cpu_ram"))
    if ram is None:
        return None
    cores = _number(record.get("cpu_cores"))
    effective = _number(record.get("cpu_cores_effective"))
    share = 1.0
    if cores and effective is not None and 0 < effective <= cores:
        share = effective / cores
    return round(ram * share / MB_PER_GB, 2)


def country_of_geolocation(geolocation: str | None) -> str | None:
    """Vast writes "City, CC" or "State, CC, Continent"; the two-letter part is the country."""
    if not geolocation:
        return None
    for part in geolocation.split(",")[1:]:
        if _COUNTRY.match(part.strip()):
            return part.strip()
    return country_of(geolocation)


def instance_from_record(record: Any, provider: str) -> Instance:
    """One Vast instance record (show or list) as an `Instance`."""
    if not isinstance(record, Mapping):
        raise InvalidResponse(provider, "instance record is not an object")
    instance_id = _count(record.get("id"))
    if instance_id is None:
        raise InvalidResponse(provider, "instance record has no id")
    state, word = instance_state(record.get("actual_status"), record.get("intended_status"))
    machine, gpus = _count(record.get("machine_id")), _count(record.get("num_gpus"))
    price = _number(record.get("dph_total"))
    started = _number(record.get("start_date"))
    return Instance(
        provider=provider,
        instance_id=str(instance_id),
        state=state,
        provider_status=word,
        tags=Tags.parse(_text(record.get("label"))),
        instance_type=instance_type(machine, gpus) if machine and gpus else None,
        region=_text(record.get("geolocation")),
        public_ip=_text(record.get("public_ipaddr")),
        ssh_host=_text(record.get("ssh_host")),
        ssh_port=_count(record.get("ssh_port")),
        ssh_user="root",
        price_per_hour=usd_to_micros(price) if price is not None and price >= 0 else None,
        created_at=datetime.fromtimestamp(started, UTC) if started else None,
    )


def instance_state(actual: Any, intended: Any) -> tuple[InstanceState, str]:
    """Our state and Vast's word for it. A running container the user asked to stop or
    freeze is stopping."""
    word = actual if isinstance(actual, str) and actual else None
    state = _STATES.get(word.lower() if word else None, InstanceState.UNKNOWN)
    if state is InstanceState.RUNNING and intended in ("stopped", "frozen"):
        state = InstanceState.STOPPING
    return state, word or "provisioning"


def instance_of_show(payload: Any, provider: str) -> Instance | None:
    """`GET /api/v0/instances/{id}/` → the instance, or None when Vast no longer has it
    (it answers `{"instances": null}` for a destroyed one)."""
    if not isinstance(payload, Mapping) or "instances" not in payload:
        raise InvalidResponse(provider, "instance answer has no `instances`")
    record = payload["instances"]
    if isinstance(record, list):
        record = record[0] if record else None
    if not record:
        return None
    return instance_from_record(record, provider)


def instance_page(payload: Any, provider: str) -> InstancePage:
    """One page of the v1 instance list and the token of the next page (None at the end)."""
    if not isinstance(payload, Mapping):
        raise InvalidResponse(provider, "instance list answer is not an object")
    records = payload.get("instances")
    if records is None and not payload.get("instances_found"):
        records = []
    if not isinstance(records, list):
        raise InvalidResponse(provider, "instance list answer has no `instances` array")
    token = payload.get("next_token")
    if token is not None and not isinstance(token, str):
        raise InvalidResponse(provider, "instance list `next_token` is not a string")
    return InstancePage([instance_from_record(r, provider) for r in records], token or None)


def error_words(body: Any) -> tuple[str, str]:
    """Vast's error code and message from an error body (`{success, error, msg}`, sometimes
    `message` or FastAPI's `detail`, sometimes plain text)."""
    if isinstance(body, Mapping):
        code = body.get("error")
        message = body.get("msg") or body.get("message") or body.get("detail")
        return (code if isinstance(code, str) else ""), (str(message) if message else "")
    if isinstance(body, str):
        return "", body
    return "", ""


def is_auth_error(status: int, body: Any) -> bool:
    """401; or 403 that is not a refusal of the request itself; or Vast's `auth_error` body,
    which some endpoints send with other statuses (a revoked key can get a 404)."""
    code, _ = error_words(body)
    if code == "auth_error" or status == 401:
        return True
    return status == 403 and code not in _REQUEST_ERRORS


def is_missing(status: int, body: Any) -> bool:
    """A 404 in which Vast itself says the thing is not there: its error envelope
    (`{"success": false, "error": "not_found", "msg": ...}`, not an authentication failure
    in disguise) or a show answer for a destroyed instance (`{"instances": null}`). Any other
    404 (an HTML or plain-text page, a framework's `{"detail": "Not Found"}`) comes from a wrong
    base URL or a proxy and says nothing about the instance."""
    if status != 404 or not isinstance(body, Mapping) or is_auth_error(status, body):
        return False
    if "instances" in body and not body["instances"]:
        return True
    code, message = error_words(body)
    return body.get("success") is False and bool(code or message)


def refusal(
    provider: str, where: str, status: int, body: Any, *, ask: bool = False
) -> ProviderError:
    """The provider error for a refused call. For a create (`ask`), a gone or unknown offer
    (404, 410 or `no_such_ask`) is `NoCapacity`, so another offer may be tried."""
    code, message = error_words(body)
    said = " ".join(f"{code} {message}".split())[:200]
    detail = f"{where}: HTTP {status}" + (f" {said}" if said else "")
    if is_auth_error(status, body):
        return ProviderAuthError(provider, f"{where}: HTTP {status} (credentials refused)")
    if ask and (status in (404, 410) or "no_such_ask" in code or "no_such_ask" in message):
        return NoCapacity(provider, detail, status)
    return ProviderRejected(provider, detail, status)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _count(value: Any) -> int | None:
    """A positive whole number (ids, GPU counts, ports), else None."""
    number = _number(value)
    if number is None or number < 1 or number != int(number):
        return None
    return int(number)


def _fraction(value: Any) -> float | None:
    number = _number(value)
    return number if number is not None and 0.0 <= number <= 1.0 else None


def _text(value: Any) -> str | None:
    return (value.strip() or None) if isinstance(value, str) else None
