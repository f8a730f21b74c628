"""``python -m zsner`` is the ``zsner`` command."""
from zsner.cli import main

main()
