"""Price alerts: watches (a saved query and a price threshold) evaluated after every sync, firing
once per crossing, delivered to an in-app feed, a live event stream and signed webhooks."""
