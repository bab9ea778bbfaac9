"""Allow ``python -m hullscan``."""

from hullscan.cli.app import main

main()
