"""Small measuring tools: event rates and rate-limited logging."""

from __future__ import annotations

import logging
from collections import deque

from ganterp.live.core.clock import Clock


class RateMeter:
    """Events per second over a sliding window.

    Parameters
    ----------
    clock : Clock
        Time source.
    window_s : float
        Length of the window, seconds.
    """

    def __init__(self, clock: Clock, window_s: float = 2.0) -> None:
        self.clock = clock
        self.window_s = float(window_s)
        self._times: deque[float] = deque()
        self.count = 0

    def tick(self) -> None:
        """Record one event now."""
        now = self.clock.now()
        self._times.append(now)
        self.count += 1
        self._trim(now)

    def _trim(self, now: float) -> None:
        while self._times and now - self._times[0] > self.window_s:
            self._times.popleft()

    def rate(self) -> float:
        """Events per second over the window."""
        now = self.clock.now()
        self._trim(now)
        n = len(self._times)
        if n < 2:
            return 0.0
        span = now - self._times[0]
        return (n - 1) / span if span > 0 else 0.0


class LogOnce:
    """Log a message at most once per interval per key, counting the rest.

    Parameters
    ----------
    logger : logging.Logger
        Where to log.
    clock : Clock
        Time source.
    interval_s : float
        Shortest time between two lines with the same key, seconds.
    """

    def __init__(self, logger: logging.Logger, clock: Clock, interval_s: float = 5.0) -> None:
        self.logger = logger
        self.clock = clock
        self.interval_s = float(interval_s)
        self._last: dict[str, float] = {}
        self._suppressed: dict[str, int] = {}

    def __call__(self, key: str, message: str, level: int = logging.WARNING) -> bool:
        """Log ``message`` unless ``key`` was logged less than the interval ago.

        Returns
        -------
        bool
            Whether the line was written.
        """
        now = self.clock.now()
        last = self._last.get(key)
        if last is not None and now - last < self.interval_s:
            self._suppressed[key] = self._suppressed.get(key, 0) + 1
            return False
        skipped = self._suppressed.pop(key, 0)
        suffix = f" ({skipped} more since last report)" if skipped else ""
        self._last[key] = now
        self.logger.log(level, "%s%s", message, suffix)
        return True
