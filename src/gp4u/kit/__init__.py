"""Shared helpers with no knowledge of any domain: money, time, errors, logging."""
