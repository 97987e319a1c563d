"""The GPU catalog with its market: every reference model, its specs and what it costs now."""
