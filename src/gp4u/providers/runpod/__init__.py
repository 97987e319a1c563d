"""RunPod: GPU pods in RunPod's Secure Cloud (its own data centres) and Community Cloud (vetted
hosts), driven through its GraphQL API at `POST https://api.runpod.io/graphql` with
`Authorization: Bearer <api key>`. Offers come from `gpuTypes` (per-GPU on-demand and spot prices,
`lowestPrice` stock status), which RunPod serves without a key; one offer per GPU type, cloud, GPU
count (1..8) and on-demand/spot. With a key the adapter launches pods
(`podFindAndDeployOnDemand`, or `podRentInterruptable` for spot bids), reads them (`pod`,
`myself { pods }`) and terminates them (`podTerminate`). RunPod has no labels and no idempotency
token: our tag goes into the pod name, and a launch first looks for a live pod carrying it.
Not supported: per-data-centre offers (prices are RunPod's global lowest), network volumes,
stop/resume, CPU pods and Instant Clusters.
"""
