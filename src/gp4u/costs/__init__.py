"""Costs: what a user's GPU sessions cost, per session, per UTC day, per month and per API key,
with the burn rate and a month-end projection against the monthly budget."""
