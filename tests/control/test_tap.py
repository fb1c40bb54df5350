"""Tap tempo: tapped beats replace the tracker's until released."""

from __future__ import annotations

import pytest

from ganterp.live.analysis.features import AudioFeatures, Beat, Onset
from ganterp.live.control.tap import TapClock

HOP = 0.01


def _hops(t0: float, t1: float, beat_every: float = 0.0) -> list[AudioFeatures]:
    out = []
    n = round((t1 - t0) / HOP)
    for i in range(1, n + 1):
        t = t0 + i * HOP
        out.append(
            AudioFeatures(
                time_s=t,
                frame=round(t * 48000),
                rms_db=-20.0,
                level=0.5,
                bands_db=(0, 0, 0),
                bands=(0.1, 0.2, 0.3),
                change=0.0,
                curve=0.0,
                onset=False,
                beat=bool(beat_every) and i % round(beat_every / HOP) == 0,
                bpm=97.0,
                pitch_hz=0.0,
                pitch_confidence=0.0,
            )
        )
    return out


def test_two_taps_set_the_grid_and_replace_the_trackers_beats() -> None:
    tap = TapClock()
    tap.tap(1.0)
    assert not tap.active and tap.bpm == 0.0
    tap.tap(1.5)
    assert tap.active and tap.bpm == pytest.approx(120.0)
    hops = _hops(1.5, 3.5, beat_every=0.37)
    tracker = [Beat(time_s=1.9, frame=1, bpm=97.0, index=3), Onset(time_s=2.2, frame=5)]
    features, events = tap.filter(hops, tracker)
    beats = [e for e in events if isinstance(e, Beat)]
    # The second tap is a beat itself; the grid carries on from it.
    assert [round(b.time_s, 3) for b in beats] == [1.5, 2.0, 2.5, 3.0, 3.5]
    assert all(b.bpm == pytest.approx(120.0) for b in beats)
    assert any(isinstance(e, Onset) for e in events)  # other events pass
    assert all(f.bpm == pytest.approx(120.0) for f in features)
    assert sum(f.beat for f in features) == 5
    # The next step continues the grid without repeating a beat.
    _, more = tap.filter(_hops(3.5, 4.6), [])
    assert [round(b.time_s, 3) for b in more] == [4.0, 4.5]


def test_release_and_a_long_pause_give_the_beat_back() -> None:
    tap = TapClock(max_gap_s=2.0)
    tap.tap(0.0)
    tap.tap(0.4)
    tap.release()
    hops = _hops(1.0, 2.0)
    tracker = [Beat(time_s=1.5, frame=1, bpm=97.0, index=0)]
    assert tap.filter(hops, tracker) == (hops, tracker)
    tap.tap(10.0)
    tap.tap(13.0)  # more than 2 s later: a new series, not a 20 BPM tempo
    assert not tap.active
    tap.tap(13.6)
    assert tap.bpm == pytest.approx(100.0)
