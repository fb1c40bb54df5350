"""Tap tempo: the beat as someone taps it, in place of the tracker's until released."""

from __future__ import annotations

import dataclasses
import statistics
from collections.abc import Sequence

from ganterp.live.analysis.features import AudioFeatures, Beat, Event


class TapClock:
    """Beats from taps.

    Two taps or more set the period (median of the last intervals) and the
    phase (the last tap). While active, the tracker's beats are replaced by
    beats on that grid, and every hop's tempo reads the tapped one.

    Parameters
    ----------
    max_gap_s : float
        A pause longer than this starts a new series of taps.
    keep : int
        Taps the period is measured over.
    """

    def __init__(self, max_gap_s: float = 2.0, keep: int = 8) -> None:
        self.max_gap_s = float(max_gap_s)
        self.keep = int(keep)
        self.taps: list[float] = []
        self.active = False
        self._period = 0.0
        self._until = -1.0
        self._index = 0

    @property
    def bpm(self) -> float:
        """The tapped tempo (0 until two taps)."""
        return 60.0 / self._period if self.active and self._period > 0 else 0.0

    def tap(self, time_s: float) -> None:
        """Register a tap at audio-clock time ``time_s``."""
        if self.taps and not 0 < time_s - self.taps[-1] <= self.max_gap_s:
            self.taps.clear()
        self.taps = [*self.taps, time_s][-self.keep :]
        if len(self.taps) >= 2:
            intervals = [b - a for a, b in zip(self.taps, self.taps[1:], strict=False)]
            self._period = statistics.median(intervals)
            self.active = True
            self._until = max(self._until, time_s - 1e-9)

    def release(self) -> None:
        """Give the beat back to the tracker."""
        self.active = False
        self.taps.clear()

    def filter(
        self, features: Sequence[AudioFeatures], events: Sequence[Event]
    ) -> tuple[list[AudioFeatures], list[Event]]:
        """Replace the tracker's beats by tapped ones over the hops in ``features``."""
        if not self.active or not features:
            return list(features), list(events)
        out_features, out_events, self._until, self._index = beats_on_grid(
            features,
            events,
            anchor=self.taps[-1],
            period=self._period,
            after=self._until,
            first_index=self._index,
        )
        return out_features, out_events


def beats_on_grid(
    features: Sequence[AudioFeatures],
    events: Sequence[Event],
    *,
    anchor: float,
    period: float,
    after: float,
    first_index: int,
) -> tuple[list[AudioFeatures], list[Event], float, int]:
    """Replace the tracker's beats in a run of hops by beats on a grid.

    Parameters
    ----------
    features : sequence of AudioFeatures
        The hops, oldest first (not empty).
    events : sequence of Event
        Their events; the tracker's beats among them are dropped.
    anchor : float
        A beat of the grid, audio seconds.
    period : float
        Seconds per beat (> 0).
    after : float
        Grid beats at or before this time were given out already, audio seconds.
    first_index : int
        The number of the first new beat.

    Returns
    -------
    features, events, until, next_index
        The hops with the grid's tempo and beat flags, the events with the grid's
        beats, the time covered (the last hop's), and the next beat's number.
    """
    end = features[-1].time_s
    bpm = 60.0 / period
    k = int((after - anchor) // period) + 1  # grid points anchor + k * period in (after, end]
    times = []
    while anchor + k * period <= end:
        times.append(anchor + k * period)
        k += 1
    out_events: list[Event] = [e for e in events if not isinstance(e, Beat)]
    marks = set()
    index = first_index
    for t in times:
        hop = min(features, key=lambda f: abs(f.time_s - t))
        marks.add(hop.frame)
        out_events.append(Beat(time_s=t, frame=hop.frame, bpm=bpm, index=index))
        index += 1
    out_features = [dataclasses.replace(f, bpm=bpm, beat=f.frame in marks) for f in features]
    return out_features, sorted(out_events, key=lambda e: e.time_s), end, index
