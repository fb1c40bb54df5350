"""Watching the active preset's file: a saved edit is applied live."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ganterp.live.core.commands import LoadPreset
from ganterp.live.core.service import Service


def file_stamp(path: Path) -> tuple[int, int] | None:
    """A file's modification time and size, or None when it cannot be read."""
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size)


class PresetWatcher(Service):
    """Polls the active preset's file and asks for a reload when it settles after a change.

    Parameters
    ----------
    active : callable
        Returns ``(name, path, stamp)`` of the active preset (``stamp``: its
        :func:`file_stamp` when it was loaded), or None.
    send : callable
        Receives ``LoadPreset(name, reload=True)``.
    poll_s : float
        How often the file is looked at, seconds.
    settle_s : float
        How long a change must stay unchanged before it is applied (an editor
        may write a file in several steps), seconds.
    """

    def __init__(
        self,
        active: Callable[[], tuple[str, Path, tuple[int, int] | None] | None],
        send: Callable[[LoadPreset], None],
        *,
        poll_s: float = 0.2,
        settle_s: float = 0.3,
    ) -> None:
        self._active = active
        self._send = send
        self.poll_s = float(poll_s)
        self.settle_s = float(settle_s)
        self.reloads = 0
        super().__init__("ganterp-presets")

    def _run(self) -> None:
        watched: tuple[str, Path, tuple[int, int] | None] | None = None
        seen: tuple[int, int] | None = None
        pending: tuple[tuple[int, int] | None, float] | None = None
        elapsed = 0.0
        while not self._stop.wait(self.poll_s):
            elapsed += self.poll_s
            active = self._active()
            if active != watched:  # a newly loaded preset: compare with the file it was read from
                watched, pending = active, None
                seen = active[2] if active is not None else None
            if watched is None:
                continue
            stamp = file_stamp(watched[1])
            if stamp == seen:
                pending = None
                continue
            if pending is None or pending[0] != stamp:
                pending = (stamp, elapsed)  # changed: wait for it to settle
                continue
            if elapsed - pending[1] >= self.settle_s and stamp is not None:
                seen, pending = stamp, None
                self.reloads += 1
                self._send(LoadPreset(watched[0], reload=True))
