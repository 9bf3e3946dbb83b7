"""The ``passerelle`` command line (typer): one module per command group, one shared helpers module.

:data:`app` is the entry point named in ``pyproject.toml`` (``service.cli:app``); the groups are
assembled in :mod:`service.cli.app` and share :mod:`service.cli.common`.
"""

from service.cli.app import app, main

__all__ = ["app", "main"]
