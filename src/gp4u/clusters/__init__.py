"""Clusters: multi-GPU jobs planned at least cost across providers, run as one unit."""
