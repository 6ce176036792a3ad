"""Subcommands of the `srbench` CLI, one module each (see srbench/cli.py)."""
