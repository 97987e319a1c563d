"""The append-only audit log of everything done to machines: provisions, state changes,
termination attempts and reconciliation actions."""
