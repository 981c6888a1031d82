"""``python -m policysearch`` runs the command line."""

from __future__ import annotations

import sys

from policysearch.cli import entry

sys.exit(entry())
