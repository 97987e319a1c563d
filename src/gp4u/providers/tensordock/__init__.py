"""TensorDock: a marketplace of GPU virtual machines on independent hosts, used through its
current public v2 API (base `https://dashboard.tensordock.com/api/v2`, bearer API key created in
the dashboard's Developer Settings, 100 requests per minute per organization). Offers come from
`GET /locations` (public: it answers without a key), one per location × GPU model × GPU count
(1 up to the location's available count, at most 8); launching creates a VM at that location
with `POST /instances`, and status, listing and deletion use `GET /instances`,
`GET /instances/{id}` and `DELETE /instances/{id}`. Launch, status, tagged listing, deletion
and the credential check need the key. Not supported: spot (the v2 API has none),
hostnode-placed offers (`GET /hostnodes` needs explicit port forwards), start/stop. The legacy
v0 hostnodes shape is parsed only for its samples.

Sources: TensorDock's API docs at dashboard.tensordock.com/api/docs (getting-started,
fetch-hostnodes, instance-creation, instance-management); the api-evangelist/tensordock OpenAPI
and JSON schema (third-party reconstruction); open-source clients that observed `/locations`
answer without a key and `/hostnodes` refuse one (403).

Assumptions, where the docs are silent or thin:
- A VM gets at least 2 vCPUs and 8 GB RAM per GPU (the docs size vCPUs in steps of 2 and RAM in
  steps of 8 GB) and 100 GB storage (documented minimum; requests round up to steps of 50 GB).
  An offer's price is the GPU price × count plus those resources at the location's per-vCPU,
  per-GB-RAM and per-GB-storage hourly prices; counts the location's `resources.max_*` cannot
  hold are not offered.
- `max_count` is how many GPUs of that model the location can deploy now: a k-GPU offer has
  `available_count = max_count // k`; 0 means sold out.
- VMs always get a dedicated IP (`useDedicatedIp: true`), so GPUs whose
  `network_features.dedicated_ip_available` is false are skipped; SSH is `user@ip:22` unless
  `portForwards` maps 22 elsewhere.
- A container image in the launch request runs under Docker from cloud-init on the
  `ubuntu2404` OS image (assumed to carry Docker and the NVIDIA container runtime); an OS image
  name such as `ubuntu2204` is used as the VM image itself.
- Status words: starting/booting → booting; creating/deploying/provisioning/pending → pending;
  running → running; stopping and deleting → stopping; stopped/StoppedDisassociated → stopped;
  deleted → terminated; error/failed → failed; anything else unknown (case-insensitive).
- Instance records come nested (`{id, attributes: {...}}` in lists), flat (`GET /instances/{id}`
  per the docs) or under `data` (create); GPUs as a list or a map; port forwards as a list of
  `{internal_port, external_port}` or a map. All are read.
- Errors are JSON:API `{"errors": [{status, title, detail}]}`. A deleted VM is gone: a 404 (or a
  400 saying "not found") whose body is TensorDock's JSON:API `errors` means terminated; any other
  404 (a wrong base URL, a proxy page) is an error, never "gone". On create, 404 (unknown
  location) and details about capacity mean `NoCapacity`; other 4xx are refusals.
- A VM's name is its GP4U tag label; TensorDock has no labels or idempotency keys.
"""
