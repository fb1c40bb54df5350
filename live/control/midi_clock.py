"""MIDI clock in: tempo and beat phase from a DAW or a drum machine.

MIDI clock is 24 pulses per quarter note, with start, continue, stop and song
position pointer messages. The tempo is the slope of a straight line fitted
through the times of the last pulses (least squares over two beats: one late
pulse moves it little), so jitter in delivery does not make the tempo shake;
the beat grid is that line at every 24th pulse, counted from start (or from
the song position, in sixteenth notes of 6 pulses). While the clock runs, its
beats replace the tracker's and the tapped ones; when it stops or goes silent
for :data:`TIMEOUT_S`, the beat goes back to them.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ganterp.live.analysis.features import AudioFeatures, Event
from ganterp.live.control.tap import beats_on_grid

#: Pulses per quarter note.
PPQN = 24

#: Pulses the tempo is fitted over (two beats).
FIT_PULSES = 48

#: A clock silent this long is taken as gone, seconds.
TIMEOUT_S = 0.5


class MidiClock:
    """Tempo and beat phase from MIDI clock messages (thread-safe).

    Times are audio-clock seconds (where the input is when a message arrives),
    so the beats line up with the analysis.

    Parameters
    ----------
    fit_pulses : int
        Pulses the tempo is fitted over.
    timeout_s : float
        Silence after which the clock counts as stopped, seconds.
    """

    def __init__(self, fit_pulses: int = FIT_PULSES, timeout_s: float = TIMEOUT_S) -> None:
        self.fit_pulses = max(4, int(fit_pulses))
        self.timeout_s = float(timeout_s)
        self._lock = threading.Lock()
        self._pulses: deque[tuple[int, float]] = deque(maxlen=self.fit_pulses)
        self._count = 0  # pulses since start (or the song position)
        self._running = False
        self._last = -1e9
        self._until = -1e9
        self._index = 0

    # -- messages -------------------------------------------------------------------------
    def pulse(self, t: float) -> None:
        """A clock pulse arrived at audio time ``t``, seconds."""
        with self._lock:
            if self._pulses and t - self._pulses[-1][1] > self.timeout_s:
                self._pulses.clear()  # a gap: the old line no longer holds
            self._pulses.append((self._count, t))
            self._count += 1
            self._last = t
            if not self._running and len(self._pulses) >= self.fit_pulses:
                self._running = True  # a clock without start: follow it once it is steady

    def start(self, t: float) -> None:
        """Start: the next pulse is the first of bar 1, beat 1."""
        with self._lock:
            self._count = 0
            self._pulses.clear()
            self._running = True
            self._last = t

    def resume(self, t: float) -> None:
        """Continue from where the clock stopped."""
        with self._lock:
            self._running = True
            self._last = t

    def stop(self) -> None:
        """Stop: the beat goes back to the tracker (or the taps)."""
        with self._lock:
            self._running = False
            self._pulses.clear()

    def song_position(self, sixteenths: int) -> None:
        """The song position pointer, in sixteenth notes (6 pulses each)."""
        with self._lock:
            self._count = int(sixteenths) * 6
            self._pulses.clear()

    # -- what it says ---------------------------------------------------------------------
    def grid(self, now: float | None = None) -> tuple[float, float] | None:
        """A beat's time and the beat period, seconds; None while not running or not yet known.

        Parameters
        ----------
        now : float, optional
            The audio time now: a clock silent for ``timeout_s`` before it is not running.
        """
        with self._lock:
            if not self._running or len(self._pulses) < 4:
                return None
            if now is not None and now - self._last > self.timeout_s:
                return None
            k = np.array([p[0] for p in self._pulses], dtype=np.float64)
            t = np.array([p[1] for p in self._pulses], dtype=np.float64)
        slope, intercept = np.polyfit(k - k[-1], t, 1)
        if slope <= 0:
            return None
        beat = (k[-1] // PPQN) * PPQN  # the newest pulse that starts a beat
        return float(intercept + slope * (beat - k[-1])), float(slope * PPQN)

    @property
    def bpm(self) -> float:
        """The clock's tempo (0 while not running)."""
        grid = self.grid()
        return 60.0 / grid[1] if grid else 0.0

    def filter(
        self, features: Sequence[AudioFeatures], events: Sequence[Event]
    ) -> tuple[list[AudioFeatures], list[Event]] | None:
        """The hops with the clock's beats in place of others; None while it is not running."""
        if not features:
            return None
        grid = self.grid(features[-1].time_s)
        if grid is None:
            return None
        anchor, period = grid
        out, evs, self._until, self._index = beats_on_grid(
            features,
            events,
            anchor=anchor,
            period=period,
            after=max(self._until, features[0].time_s - 1e-9),
            first_index=self._index,
        )
        return out, evs


class MidiClockInput:
    """Feeds a :class:`MidiClock` from mido messages (a :class:`ganterp.live.control.midi.MidiIn`'s control).

    Parameters
    ----------
    clock : MidiClock
        Where the pulses go.
    now : callable
        ``now() -> float``: the audio time at which a message arrives, seconds.
    """

    def __init__(self, clock: MidiClock, now: Callable[[], float]) -> None:
        self.clock = clock
        self.now = now

    def handle(self, message: Any) -> None:
        """Take one message; anything but the clock's own is ignored."""
        kind = getattr(message, "type", "")
        if kind == "clock":
            self.clock.pulse(self.now())
        elif kind == "start":
            self.clock.start(self.now())
        elif kind == "continue":
            self.clock.resume(self.now())
        elif kind == "stop":
            self.clock.stop()
        elif kind == "songpos":
            self.clock.song_position(int(message.pos))
