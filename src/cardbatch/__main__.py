"""``python -m cardbatch`` runs the command line."""

from cardbatch.cli.app import main

main()
