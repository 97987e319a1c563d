"""Lambda Cloud (provider name `lambda`; the folder is `lambda_cloud` because `lambda` is a Python
keyword): an on-demand GPU cloud with a REST API at `https://cloud.lambda.ai/api/v1` (the older
`cloud.lambdalabs.com` host is deprecated and redirects). Auth is `Authorization: Bearer <key>`
(Basic with the key as user name also works; we send Bearer). Every answer is wrapped in
`{"data": ...}`, every error in `{"error": {"code", "message", "suggestion"}}`. Supported: instance
types with the regions that have capacity now (a key is needed even to list them), launch (one
instance per call, needs a registered SSH key: a configured `ssh_key_name` option, or the request's
public key registered through `/ssh-keys`), status, list by tag, terminate, credential check.
Not supported: spot instances (Lambda sells on-demand only), client tokens (launch is made
idempotent by looking for an instance already named with our tag label)."""
