"""Akash Network: a decentralised compute marketplace where tenants post deployments on chain and
providers bid on them. GP4U reads it as a catalog through the public Akash Console API,
`GET https://console-api.akash.network/v1/gpu-prices` (no auth): per GPU model, how many GPUs
are allocatable and free on the network and what recent single-GPU bids cost, in USD per
GPU-hour. Supported: offers with live availability. Not supported: launch and everything after it
(deployments need an on-chain wallet, escrow and provider bids), spot, credentials (none needed)."""
