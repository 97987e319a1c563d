"""The RunPod adapter: offers from `gpuTypes`, pods through GraphQL queries and mutations.

Every call is one `POST /graphql`. Queries are read-only and sent as idempotent (the gateway may
retry them); mutations are not. RunPod answers GraphQL errors with HTTP 200 and an `errors` array;
those are mapped to provider errors by `parse.graphql_data`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any, ClassVar

from gp4u.kit.logging import get_logger
from gp4u.kit.money import divide_micros, micros_to_usd
from gp4u.providers.base import (
    InstanceNotFound,
    InvalidResponse,
    NoCapacity,
    OutcomeUnknown,
    ParseReport,
    ProviderAuthError,
    ProviderRejected,
)
from gp4u.providers.gateway import CallPolicy, ProviderResponse
from gp4u.providers.interface import (
    Capabilities,
    Capability,
    CredentialCheck,
    Instance,
    InstanceState,
    LaunchRequest,
    ProviderAdapter,
    ProviderKind,
    tagged_alive,
)
from gp4u.providers.ratelimit import RatePolicy
from gp4u.providers.runpod.parse import (
    CLOUDS,
    Cloud,
    classify_error,
    error_messages,
    graphql_data,
    parse_gpu_types,
    parse_pod,
    parse_pods,
    split_instance_type,
)

log = get_logger(__name__)

GRAPHQL = "/graphql"
NO_KEY = "no API key: set GP4U_RUNPOD_API_KEY"

_LOWEST_PRICE = (
    "minimumBidPrice uninterruptablePrice minVcpu minMemory stockStatus "
    "maxUnreservedGpuCount availableGpuCounts"
)
GPU_TYPES = f"""
query GpuTypes($lowestPriceInput: GpuLowestPriceInput) {{
  gpuTypes {{
    id displayName manufacturer memoryInGb maxGpuCount
    securePrice communityPrice secureSpotPrice communitySpotPrice
    lowestPrice(input: $lowestPriceInput) {{ {_LOWEST_PRICE} }}
  }}
}}"""
SPOT_PRICE = """
query SpotPrice($input: GpuTypeFilter, $lowestPriceInput: GpuLowestPriceInput) {
  gpuTypes(input: $input) {
    id secureSpotPrice communitySpotPrice
    lowestPrice(input: $lowestPriceInput) { minimumBidPrice stockStatus }
  }
}"""
_POD = (
    "id name desiredStatus costPerHr gpuCount imageName podType machine { gpuDisplayName } "
    "runtime { uptimeInSeconds ports { ip isIpPublic privatePort publicPort type } }"
)
POD = f"query Pod($input: PodFilter!) {{ pod(input: $input) {{ {_POD} }} }}"
MY_PODS = f"query MyPods {{ myself {{ pods {{ {_POD} }} }} }}"
MYSELF = "query Myself { myself { id } }"
DEPLOY = f"""
mutation Deploy($input: PodFindAndDeployOnDemandInput!) {{
  podFindAndDeployOnDemand(input: $input) {{ {_POD} }}
}}"""
RENT_SPOT = f"""
mutation RentSpot($input: PodRentInterruptableInput!) {{
  podRentInterruptable(input: $input) {{ {_POD} }}
}}"""
TERMINATE = "mutation Terminate($input: PodTerminateInput!) { podTerminate(input: $input) }"


class RunPodAdapter(ProviderAdapter):
    kind: ClassVar[ProviderKind] = "cloud"
    live: ClassVar[bool] = True
    default_base_url: ClassVar[str] = "https://api.runpod.io"
    # RunPod publishes no limit for its GraphQL API (only for REST v2); stay well below abuse.
    call_policy: ClassVar[CallPolicy] = CallPolicy(rate=RatePolicy(per_second=5, burst=10))

    def capabilities(self) -> Capabilities:
        everything = (
            Capability.OFFERS,
            Capability.LIVE_AVAILABILITY,
            Capability.LAUNCH,
            Capability.SPOT,
            Capability.CREDENTIALS,
        )
        if self.api_key:
            return Capabilities.of(*everything)
        return Capabilities.of(*everything, launch=NO_KEY, credentials=NO_KEY)

    # ---- GraphQL -------------------------------------------------------------------------

    async def _graphql(
        self, query: str, variables: dict[str, Any], operation: str, *, mutation: bool = False
    ) -> dict[str, Any]:
        """Send one operation; the `data` object, or the provider error its answer stands for."""
        response = await self.client.request(
            "POST",
            GRAPHQL,
            json={"query": query, "variables": variables},
            idempotent=not mutation,
        )
        if not response.ok:
            self._raise_http(response, operation)
        return graphql_data(response.json(), self.name, operation)

    def _raise_http(self, response: ProviderResponse, operation: str) -> None:
        """Non-2xx: 401/403 are auth errors; a 400 carries GraphQL validation errors."""
        if response.status not in (401, 403):
            try:
                messages = error_messages(response.json())
            except InvalidResponse:
                messages = []
            if messages:
                message = f"{operation}: HTTP {response.status}: {'; '.join(messages)}"
                raise classify_error(self.name, message, response.status)
        response.raise_for_status()

    # ---- offers --------------------------------------------------------------------------

    async def list_offers(self) -> ParseReport:
        report = ParseReport()
        for cloud in CLOUDS:
            variables = {"lowestPriceInput": {"gpuCount": 1, "secureCloud": cloud == "secure"}}
            data = await self._graphql(GPU_TYPES, variables, f"gpuTypes ({cloud} cloud)")
            report.merge(parse_gpu_types(data.get("gpuTypes"), self.provider, cloud))
        return report

    # ---- pods ----------------------------------------------------------------------------

    async def launch(self, request: LaunchRequest) -> Instance:
        self._require(Capability.LAUNCH)
        cloud, gpu_count = self._target(request)
        existing = await self._find_labelled(request.tags.label)
        if existing is not None:
            return existing
        pod_input = self._pod_input(request, cloud, gpu_count)
        query, field = DEPLOY, "podFindAndDeployOnDemand"
        if request.spot:
            pod_input["bidPerGpu"] = await self._bid_per_gpu(request, cloud, gpu_count)
            query, field = RENT_SPOT, "podRentInterruptable"
        try:
            data = await self._graphql(query, {"input": pod_input}, field, mutation=True)
            instance = parse_pod(data.get(field), self.name)
        except InvalidResponse as exc:  # the pod may exist: the caller reconciles by tag
            raise OutcomeUnknown(self.name, f"{field}: unreadable answer ({exc.message})") from exc
        log.info("runpod pod launched", provider=self.name, pod=instance.instance_id)
        return replace(
            instance,
            tags=instance.tags or request.tags,
            instance_type=request.instance_type,
            region=request.region,
        )

    def _target(self, request: LaunchRequest) -> tuple[Cloud | None, int]:
        """The cloud (None: either) and GPU count; our instance type names both."""
        parsed = split_instance_type(request.instance_type)
        if parsed is None:
            return None, request.gpu_count
        cloud, gpu_type, count = parsed
        if gpu_type != request.offer_ref:
            raise ProviderRejected(
                self.name, f"instance type {request.instance_type!r} is not {request.offer_ref!r}"
            )
        if request.gpu_count not in (1, count):
            raise ProviderRejected(
                self.name,
                f"gpu_count {request.gpu_count} contradicts instance type {request.instance_type}",
            )
        return cloud, count

    @staticmethod
    def _pod_input(request: LaunchRequest, cloud: Cloud | None, gpu_count: int) -> dict[str, Any]:
        env = dict(request.env)
        if request.ssh_public_key:
            env["PUBLIC_KEY"] = request.ssh_public_key  # RunPod images install it for root
        pod_input: dict[str, Any] = {
            "name": request.tags.label,
            "imageName": request.image,
            "gpuTypeId": request.offer_ref,
            "gpuCount": gpu_count,
            "cloudType": cloud.upper() if cloud else "ALL",
            "containerDiskInGb": request.disk_gb,
            "volumeInGb": 0,
            "ports": "22/tcp",
            "startSsh": True,
            "supportPublicIp": True,
            "env": [{"key": key, "value": value} for key, value in env.items()],
        }
        if request.startup_command:
            pod_input["dockerArgs"] = request.startup_command
        if request.region:
            pod_input["dataCenterId"] = request.region
        return pod_input

    async def _bid_per_gpu(self, request: LaunchRequest, cloud: Cloud | None, count: int) -> float:
        """Dollars per GPU per hour to bid: the request's bid, else RunPod's current spot price."""
        if request.bid_per_hour is not None:
            return micros_to_usd(divide_micros(request.bid_per_hour, count))
        lowest: dict[str, Any] = {"gpuCount": count}
        if cloud:
            lowest["secureCloud"] = cloud == "secure"
        variables = {"input": {"id": request.offer_ref}, "lowestPriceInput": lowest}
        data = await self._graphql(SPOT_PRICE, variables, "gpuTypes (spot price)")
        types = data.get("gpuTypes")
        record = types[0] if isinstance(types, list) and types else None
        if not isinstance(record, dict):
            raise NoCapacity(self.name, f"no GPU type {request.offer_ref!r}")
        lowest_price = record.get("lowestPrice") or {}
        for value in (
            record.get(f"{cloud or 'secure'}SpotPrice"),
            lowest_price.get("minimumBidPrice") if isinstance(lowest_price, dict) else None,
        ):
            if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
                return float(value)
        raise NoCapacity(self.name, f"no spot market for {request.offer_ref!r} now")

    async def _my_pods(self) -> list[Instance]:
        data = await self._graphql(MY_PODS, {}, "myself.pods")
        myself = data.get("myself")
        if not isinstance(myself, dict):
            raise InvalidResponse(self.name, "myself.pods: no user object")
        instances, bad = parse_pods(myself.get("pods"), self.name)
        if bad:
            log.warning("runpod pods without an id ignored", provider=self.name, count=bad)
        return instances

    async def _find_labelled(self, label: str) -> Instance | None:
        for instance in await self._my_pods():
            if instance.tags and instance.tags.label == label and not instance.state.is_gone:
                return instance
        return None

    async def status(self, instance_ids: Sequence[str]) -> list[Instance]:
        self._require(Capability.LAUNCH)
        return [await self._status(pod_id) for pod_id in instance_ids]

    async def _status(self, pod_id: str) -> Instance:
        try:
            data = await self._graphql(POD, {"input": {"podId": pod_id}}, "pod")
        except InstanceNotFound:
            data = {}
        if data.get("pod") is None:  # RunPod forgets terminated pods
            return Instance(self.name, pod_id, InstanceState.TERMINATED, "not found")
        return parse_pod(data["pod"], self.name)

    async def list_tagged(self, deployment: str) -> list[Instance]:
        self._require(Capability.LAUNCH)
        return tagged_alive(await self._my_pods(), deployment)

    async def terminate(self, instance_id: str) -> None:
        self._require(Capability.LAUNCH)
        variables = {"input": {"podId": instance_id}}
        try:
            await self._graphql(TERMINATE, variables, "podTerminate", mutation=True)
        except InstanceNotFound:
            return
        except ProviderRejected as exc:
            # RunPod's wording for "no such pod" is not documented: it is gone if `pod` says so
            if isinstance(exc, NoCapacity) or not (await self._status(instance_id)).state.is_gone:
                raise
        log.info("runpod pod terminated", provider=self.name, pod=instance_id)

    async def check_credentials(self) -> CredentialCheck:
        if not self.api_key:
            return CredentialCheck(False, NO_KEY)
        try:
            data = await self._graphql(MYSELF, {}, "myself")
        except ProviderAuthError:
            return CredentialCheck(False, "RunPod refused the API key")
        if not isinstance(data.get("myself"), dict):
            return CredentialCheck(False, "RunPod did not recognise the API key's user")
        return CredentialCheck(True, "API key accepted")
