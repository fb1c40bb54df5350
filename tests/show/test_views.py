"""live.show.views: the HUD's tempo readout holds still and says when it is unsure; warnings."""

from __future__ import annotations

import itertools

import pytest

from ganterp.live.show.views import TEMPO_HOLD_S, TEMPO_WINDOW_S, TempoReadout


def _run(readout: TempoReadout, bpm_at, seconds: float, fps: float = 60.0):
    return [readout.update(k / fps, bpm_at(k / fps)) for k in range(int(seconds * fps))]


def test_a_steady_tempo_is_shown_plainly_once_the_window_has_heard_enough() -> None:
    shown = _run(TempoReadout(), lambda t: 124.0 + (0.5 if int(t * 3) % 2 else -0.5), 10.0)
    early, late = shown[: int(60 * TEMPO_WINDOW_S / 2) - 1], shown[int(60 * TEMPO_WINDOW_S) :]
    assert all(not steady for _, steady in early)
    assert all(steady and bpm == pytest.approx(124.0, abs=0.6) for bpm, steady in late)


def test_a_swinging_tracker_is_marked_unsure_and_its_swings_are_damped() -> None:
    # 202 -> 112 -> 150 BPM within 20 s, as a tracker does on orchestral music.
    swings = [202.0, 112.0, 150.0, 202.0, 112.0]
    shown = _run(TempoReadout(), lambda t: swings[int(t // 4) % len(swings)], 20.0)
    after = shown[60 * 4 :]
    assert all(not steady for _, steady in after)
    values = [bpm for bpm, _ in after]
    # The raw estimate jumps by 90 BPM; the readout changes at most once per hold.
    changes = sum(b != a for a, b in itertools.pairwise(values))
    assert changes <= 16 / TEMPO_HOLD_S


def test_no_tempo_reads_as_none_at_once() -> None:
    readout = TempoReadout()
    _run(readout, lambda t: 124.0, 6.0)
    assert readout.update(6.1, 0.0) == (0.0, False)


def test_a_display_fallback_is_a_warning_line_in_the_hud() -> None:
    from ganterp.live.audio.source import SourceStatus
    from ganterp.live.show.views import Alerts, warning_lines

    running = SourceStatus(state="running", message="", overflows=0, reopen_count=0, position_s=0.0)
    alerts = Alerts(source=running, display_warnings=("CPU display: no OpenGL (GLX is missing)",))
    assert "CPU display: no OpenGL (GLX is missing)" in warning_lines(alerts, None)
    assert warning_lines(Alerts(source=running), None) == ()
