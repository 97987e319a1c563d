"""`python -m gp4u.agent run|done|status|host`: the agent without the full `gp4u` CLI."""

from gp4u.agent.cli import agent

if __name__ == "__main__":
    agent(prog_name="python -m gp4u.agent")
