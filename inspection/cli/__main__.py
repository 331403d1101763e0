"""``python -m inspection.cli``: the headless commands."""

from inspection.cli import main

raise SystemExit(main())
