"""``python -m clearance`` is the ``clearance`` command."""

from clearance.entrypoints.cli import main

raise SystemExit(main())
