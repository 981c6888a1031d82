"""policysearch: search the memory/latency Pareto front of Linux kernel memory policies."""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    # looked up on first use: ``importlib.metadata`` costs a few hundred milliseconds on a busy
    # machine, which every Ray worker (it imports this package to build its actor) would pay
    if name != "__version__":
        raise AttributeError(f"module 'policysearch' has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        found = version("policysearch")
    except PackageNotFoundError:  # running from a source tree that was not installed
        found = "0.0.0+source"
    globals()["__version__"] = found
    return found
