"""Hand-over points between the show's threads.

Two kinds, both bounded: a newest-wins slot for state (a reader only ever wants
the latest value) and a drop-oldest queue for events (a slow reader loses the
oldest and a counter says how many).
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Generic, TypeVar

T = TypeVar("T")


class LatestSlot(Generic[T]):
    """A single value, replaced by each write, with a version number.

    Not for the audio callback (it takes a lock); for every other thread.
    """

    def __init__(self, value: T | None = None) -> None:
        self._cond = threading.Condition()
        self._value = value
        self._version = 0 if value is None else 1

    def put(self, value: T) -> int:
        """Replace the value; return its version (1, 2, …)."""
        with self._cond:
            self._value = value
            self._version += 1
            self._cond.notify_all()
            return self._version

    def get(self) -> tuple[T | None, int]:
        """Return the newest value and its version (``None, 0`` before the first put)."""
        with self._cond:
            return self._value, self._version

    def wait_newer(self, version: int, timeout: float) -> tuple[T | None, int]:
        """Wait up to ``timeout`` seconds for a version newer than ``version``.

        Returns
        -------
        value, version
            The newest value and version, which may be unchanged on time-out.
        """
        with self._cond:
            if self._version <= version:
                self._cond.wait(timeout)
            return self._value, self._version


class DropQueue(Generic[T]):
    """A bounded FIFO that drops its oldest item when full, and counts the drops.

    Parameters
    ----------
    capacity : int
        Items held at most.
    """

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.capacity = int(capacity)
        self._items: deque[T] = deque()
        self._lock = threading.Lock()
        self.dropped = 0
        self.total = 0

    def put(self, item: T) -> None:
        """Append ``item``, dropping the oldest if full."""
        with self._lock:
            if len(self._items) >= self.capacity:
                self._items.popleft()
                self.dropped += 1
            self._items.append(item)
            self.total += 1

    def drain(self) -> list[T]:
        """Remove and return every item, oldest first."""
        with self._lock:
            items = list(self._items)
            self._items.clear()
            return items

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)
