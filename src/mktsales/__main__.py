"""``python -m mktsales`` runs the command line."""

from mktsales.cli import main

raise SystemExit(main())
