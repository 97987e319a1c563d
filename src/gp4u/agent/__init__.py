"""The GP4U node agent: runs on a launched machine, registers with the broker using a one-time
token, heartbeats, reports GPU facts, serves a local status endpoint and shuts the machine down
when the broker says so, when the hard deadline passes or when the broker has been silent too long.
In host mode (`gp4u agent host`) it runs on a host's listed machine instead: it registers the
machine, proves its GPUs, keeps it online with heartbeats, runs the sessions the broker hands it
(each a `gp4u.agent.workload` process with its own node agent), and never powers anything off.

It sits below `gp4u.providers` and imports only `gp4u.kit`, the stdlib and third-party libraries,
so it starts fast on a bare machine.
"""

from gp4u import __version__ as AGENT_VERSION

__all__ = ["AGENT_VERSION"]
