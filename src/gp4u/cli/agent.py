"""`gp4u agent`: the node agent's commands (run, done, status, host). They are defined in the agent
layer, so a bare machine can run them as `python -m gp4u.agent`."""

from gp4u.agent.cli import agent

__all__ = ["agent"]
