"""Vast.ai: a marketplace of individual hosts renting whole or partial GPU machines, on demand or
interruptible (bid). API base https://console.vast.ai, authenticated with `Authorization: Bearer
<key>`; the offer search (`POST /api/v0/bundles/`) also works anonymously, so offers are listed
without a key. Supported: on-demand and interruptible offers (spot offers priced at the minimum
bid), launch by renting an ask (`PUT /api/v0/asks/{id}/`, label = our tags, optional bid and SSH
key), status, listing our tagged instances (v1 list, paginated), destroy and a credential check.
Not supported: stop/resume, bid changes, volumes, templates and reserved (prepaid) pricing; a
key is needed for everything but offers.
"""
