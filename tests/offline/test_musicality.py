"""live.offline.musicality: each measure against hand-computed answers on tiny series."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ganterp.live.offline import musicality as m


def test_visual_change_is_the_mean_absolute_difference_without_wrapping() -> None:
    a = np.zeros((2, 2, 3), dtype=np.uint8)
    b = np.zeros((2, 2, 3), dtype=np.uint8)
    b[0, 0, :] = 255  # 3 of 12 values differ by 255; uint8 arithmetic would wrap
    b[1, 1, 0] = 12
    assert m.visual_change(a, b) == pytest.approx((3 * 255 + 12) / 12)
    assert m.visual_change(b, a) == m.visual_change(a, b)
    assert m.visual_change(a, a) == 0.0


def test_smooth_is_a_centred_moving_average_shortened_at_the_edges() -> None:
    v = np.array([0.0, 0.0, 3.0, 0.0, 0.0])
    # 0.5 s at 6 fps: three frames, centred.
    np.testing.assert_allclose(m.smooth(v, fps=6.0), [0.0, 1.0, 1.0, 1.0, 0.0])
    np.testing.assert_allclose(m.smooth(v, fps=1.0), v)  # a window of one frame


def test_spearman_ranks_with_ties_and_rejects_constants() -> None:
    x = np.arange(10.0)
    assert m.spearman(x, np.exp(x)) == pytest.approx(1.0)
    assert m.spearman(x, -(x**3)) == pytest.approx(-1.0)
    # Ranks [1, 2.5, 2.5, 4] against [1, 2, 3, 4]: 4.5 / sqrt(4.5 * 5).
    rho = m.spearman(np.array([1.0, 2.0, 2.0, 3.0]), np.array([1.0, 2.0, 3.0, 4.0]))
    assert rho == pytest.approx(4.5 / math.sqrt(22.5))
    assert math.isnan(m.spearman(np.ones(5), x[:5]))


def test_follow_rho_correlates_the_smoothed_series() -> None:
    fps = 10.0
    flux = np.abs(np.sin(np.arange(200) / 15.0))
    assert m.follow_rho(2.0 * flux + 1.0, flux, fps=fps) == pytest.approx(1.0)
    assert m.follow_rho(-flux, flux, fps=fps) == pytest.approx(-1.0)
    # Smoothing first: a picture that rises a frame late still follows closely.
    assert m.follow_rho(np.roll(flux, 1), flux, fps=fps) > 0.95


def test_section_response_compares_two_seconds_around_inflections_with_the_rest() -> None:
    fps = 10.0
    visual = np.ones(101)
    t = np.arange(101) / fps
    visual[np.abs(t - 5.0) <= 1.0] = 3.0
    assert m.section_response(visual, [5.0], fps=fps) == pytest.approx(3.0)
    assert math.isnan(m.section_response(visual, [], fps=fps))
    # NaN when no frame is left elsewhere.
    assert math.isnan(m.section_response(visual, [0.5, 2.0, 3.5, 5.0, 6.5, 8.0, 9.5], fps=fps))


def test_beat_response_takes_the_frames_of_the_150_ms_after_each_beat() -> None:
    fps = 10.0
    visual = np.ones(100)
    visual[21] = 5.0  # the one frame with 2.0 < t <= 2.15
    visual[61] = 3.0  # after the beat at 6.0
    total = (97 + 5 + 3) / 99
    assert m.beat_response(visual, [2.0, 6.0], fps=fps) == pytest.approx(4.0 / total)
    assert math.isnan(m.beat_response(visual, [], fps=fps))


def test_calm_in_silence_is_the_quiet_frames_change_over_the_mean() -> None:
    visual = np.full(100, 2.0)
    levels = np.full(100, -20.0)
    visual[50:] = 0.5
    levels[50:] = -60.0
    expected = 0.5 / ((49 * 2.0 + 50 * 0.5) / 99)
    assert m.calm_in_silence(visual, levels) == pytest.approx(expected)
    assert math.isnan(m.calm_in_silence(visual, np.full(100, -20.0)))  # no silence


def test_longest_still_counts_only_frames_with_sound() -> None:
    fps = 10.0
    visual = np.full(100, 5.0)
    levels = np.full(100, -20.0)
    visual[10:30] = 0.5  # 2 s still under sound
    visual[50:90] = 0.0  # 4 s still, but quiet (below -30 dBFS): allowed
    levels[50:90] = -40.0
    assert m.longest_still(visual, levels, fps=fps) == pytest.approx(2.0)
    assert m.longest_still(np.full(100, 5.0), levels, fps=fps) == 0.0


def test_spectral_flux_rises_where_a_sound_starts() -> None:
    sr, fps = 44100, 30.0
    x = np.zeros(3 * sr)
    t = np.arange(sr) / sr
    x[sr : 2 * sr] = 0.5 * np.sin(2 * np.pi * 440.0 * t)
    flux = m.spectral_flux(x, sample_rate=sr, fps=fps, n_frames=90)
    assert flux.shape == (90,) and flux[0] == 0.0 and np.all(flux >= 0)
    assert np.all(flux[:25] == 0.0)  # digital silence before the tone's window reaches it
    assert 28 <= int(np.argmax(flux)) <= 31  # the onset at 1 s (frame 30)
    assert flux[40:55].max() < 0.01 * flux.max()  # a steady tone hardly changes


def test_frame_levels_are_rms_in_dbfs() -> None:
    sr, fps = 8000, 10.0
    t = np.arange(2 * sr) / sr
    x = np.sin(2 * np.pi * 100.0 * t)
    x[sr:] = 0.0
    levels = m.frame_levels_db(x, sample_rate=sr, fps=fps, n_frames=20)
    assert levels[3:7] == pytest.approx(-3.01, abs=0.05)  # a full-scale sine
    assert np.all(levels[13:] == -120.0)


def test_steady_beats_wants_dense_regular_beats() -> None:
    regular = list(np.arange(0.0, 10.0, 0.5))
    assert m.steady_beats(regular, 10.0)
    rng = np.random.default_rng(0)
    assert not m.steady_beats(sorted(rng.uniform(0, 10, 20).tolist()), 10.0)
    assert not m.steady_beats(regular[:6], 10.0)  # too few
    assert not m.steady_beats(list(np.arange(0.0, 10.0, 2.0)), 10.0)  # too sparse
