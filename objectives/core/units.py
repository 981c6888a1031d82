"""Units shared by every model: the page size and binary byte multiples (defined once here)."""

from __future__ import annotations

PAGE_BYTES = 4096
"""Bytes of one base page (x86_64, and the unit every family's page counts use)."""

MIB = 1 << 20
GIB = 1 << 30
