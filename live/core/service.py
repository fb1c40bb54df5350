"""A background service: one named daemon thread that can be started and stopped."""

from __future__ import annotations

import threading


class Service:
    """Base of the show's control surfaces (OSC in and out, the preset watcher).

    Subclasses implement :meth:`_run` (looping until ``self._stop`` is set)
    and may implement :meth:`_close` to release what they hold.

    Parameters
    ----------
    name : str
        The thread's name.
    """

    def __init__(self, name: str) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        """Start the thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread, wait for it, release its resources."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=2.0)
        self._close()

    def _run(self) -> None:
        raise NotImplementedError

    def _close(self) -> None:
        """Release resources (nothing by default)."""
