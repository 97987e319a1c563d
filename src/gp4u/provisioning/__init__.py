"""Sessions: GPU machines launched through the providers, kept safe by a lifecycle manager
(expiry, hard maximum, heartbeats, verified destruction), reconciliation against the providers,
and the node agent that checks in from each machine."""
