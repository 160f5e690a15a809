"""How hard the randomized tests push: one place for every count.

`make test` runs with scale 1 (fits CI's time).  `make fuzz` and `make soak` set
``RT_SCALE`` (e.g. 20) to multiply hypothesis examples, crash trials and fault rounds; a
per-test environment variable, where a test names one, still wins.
"""

from __future__ import annotations

import os


def scale() -> int:
    try:
        return max(1, int(os.environ.get("RT_SCALE", "1")))
    except ValueError:
        return 1


def count(default: int, env: str | None = None, *, soak: int | None = None) -> int:
    """``default`` times the scale, unless ``env`` names a variable that is set.  ``soak``, where
    given, replaces ``default`` once the scale is above 1: `make test` runs a small set where a
    deterministic test proves the same promise step by step, `make soak` the volume."""
    if env and os.environ.get(env):
        return int(os.environ[env])
    s = scale()
    return (soak if soak is not None and s > 1 else default) * s
