"""``python -m entangle.cli``: the same as the ``entangle`` command."""

from entangle.cli import main

main()
