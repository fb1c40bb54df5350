"""The lifecycle a live input shares: silence while a device is lost, bounded closing."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from ganterp.live.audio.ring import AudioRing
from ganterp.live.audio.source import SourceState, SourceStatus
from ganterp.live.core.errors import one_line

log = logging.getLogger(__name__)


def run_bounded(fn: Callable[[], object], timeout_s: float, name: str) -> threading.Event:
    """Run ``fn`` in a daemon thread and wait for it at most ``timeout_s`` seconds.

    For releasing a device or a client that may hang (a dead server): the
    caller goes on after the timeout and the thread is left to finish, or not.
    An exception from ``fn`` is logged at debug level and otherwise ignored.

    Parameters
    ----------
    fn : callable
        What to run, without arguments.
    timeout_s : float
        Seconds to wait.
    name : str
        The thread's name.

    Returns
    -------
    threading.Event
        Set once ``fn`` has returned: already set when it did within
        ``timeout_s``, and set later if it returns later.
    """
    done = threading.Event()

    def run() -> None:
        try:
            fn()
        except Exception as exc:
            log.debug("%s: %s", name, one_line(exc))
        finally:
            done.set()

    threading.Thread(target=run, name=name, daemon=True).start()
    done.wait(timeout_s)
    return done


class SilenceFeed:
    """Silence written into a ring at real-time pace while its input is lost.

    The feed starts at the ring's last stamped frame (or now, for an empty
    ring), so that frames written keep matching the clock time that passed:
    the ring's timeline has no hole and downstream readers never stall. Used by
    a source's watchdog thread, the ring's only writer while the input is lost.

    Parameters
    ----------
    ring : AudioRing
        The ring to feed; its sample rate sets the pace.
    """

    def __init__(self, ring: AudioRing) -> None:
        self.ring = ring
        self._since = 0.0
        self._written = 0

    def begin(self, now: float) -> None:
        """Start feeding from the last real frame; ``now`` is the clock time in seconds."""
        frames, t = self.ring.stamp
        last = t if frames else now
        self._since, self._written = min(last, now), 0

    def fill(self, now: float) -> int:
        """Write the silence due by clock time ``now`` (seconds); return the frames written."""
        ring = self.ring
        due = int((now - self._since) * ring.sample_rate) - self._written
        done = 0
        chunk = max(1, ring.capacity // 2)
        while done < due:
            n = min(chunk, due - done)
            ring.write_silence(n, now)
            done += n
        self._written += done
        return done


class LiveInput:
    """What every live input (a sound card, a JACK client) reports the same way.

    Subclasses keep ``ring``, ``sample_rate`` and the state fields up to date.
    """

    ring: AudioRing
    sample_rate: int
    _state: SourceState
    _message: str
    _reopen_count: int
    _xruns: int = 0

    @property
    def finished(self) -> bool:
        """Always False: a live input never ends by itself."""
        return False

    def status(self) -> SourceStatus:
        """Return a snapshot of the input's health."""
        return SourceStatus(
            state=self._state,
            message=self._message,
            overflows=self.ring.overflows,
            reopen_count=self._reopen_count,
            position_s=self.ring.written / self.sample_rate,
            xruns=self._xruns,
        )
