"""A source's one helper thread (watchdog or player) with its stop and wake events."""

from __future__ import annotations

import threading
from collections.abc import Callable


class HelperThread:
    """One daemon thread that a source starts, wakes and stops.

    Parameters
    ----------
    name : str
        Thread name, as shown by debuggers and ``threading.enumerate()``.

    Attributes
    ----------
    stopping : threading.Event
        Set by :meth:`stop`; the thread's loop ends when it sees it.
    wake : threading.Event
        Set to cut the thread's current wait short (a lost device, a stop).
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.stopping = threading.Event()
        self.wake = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        """Whether a thread has been started and not yet stopped."""
        return self._thread is not None

    def start(self, target: Callable[[], None]) -> None:
        """Clear :attr:`stopping` and run ``target`` on a new daemon thread."""
        self.stopping.clear()
        self._thread = threading.Thread(target=target, name=self.name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Set both events and join the thread (unless called from it); idempotent."""
        self.stopping.set()
        self.wake.set()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join()

    def join(self, timeout: float | None = None) -> None:
        """Wait up to ``timeout`` seconds for the running thread to end (none: no wait)."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
