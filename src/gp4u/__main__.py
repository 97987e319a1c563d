"""`python -m gp4u`: the same as the `gp4u` command."""

from gp4u.cli.main import main

main()
