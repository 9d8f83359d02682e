"""``python -m mist_hf ...``: the ``mist-mi`` command line."""

from .cli import main

raise SystemExit(main())
