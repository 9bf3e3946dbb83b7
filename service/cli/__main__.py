"""``python -m service.cli``: the same as the ``passerelle`` command."""

from service.cli.app import main

main()
