"""`python -m nas.cli`: the `nas` command (scripts and subprocess calls run it this way)."""

from nas.cli import main

main()
