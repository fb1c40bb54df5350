"""Clocks passed into every time-dependent part.

The show runs on a :class:`MonotonicClock`; offline renders and tests run on a
:class:`ManualClock` that they advance themselves, so the same code gives the
same result whatever the machine's speed.
"""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    """A source of time in seconds."""

    def now(self) -> float:
        """Return the current time in seconds (arbitrary origin, never decreasing)."""
        ...


class MonotonicClock:
    """Wall time from :func:`time.perf_counter`, in seconds."""

    def now(self) -> float:
        """Return the current time in seconds."""
        return time.perf_counter()


class ManualClock:
    """A clock that only moves when told to.

    Parameters
    ----------
    start : float
        Initial time in seconds.
    """

    def __init__(self, start: float = 0.0) -> None:
        self._t = float(start)

    def now(self) -> float:
        """Return the current time in seconds."""
        return self._t

    def advance(self, seconds: float) -> None:
        """Move the clock forward by ``seconds`` (must be >= 0)."""
        if seconds < 0:
            raise ValueError("a clock cannot go backwards")
        self._t += seconds

    def set(self, t: float) -> None:
        """Move the clock to ``t`` seconds (must not be earlier than now)."""
        if t < self._t:
            raise ValueError("a clock cannot go backwards")
        self._t = float(t)
