"""deep-music-visualizer's audio → (z, y) mapping: known answers on tiny inputs."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ganterp.live.offline.dmv import (
    DmvSettings,
    chromagram,
    dmv_frames,
    dmv_vectors,
    frame_count,
    mel_power,
    power_features,
    scaled_settings,
    smooth_class_vectors,
)

SR = 22050
REF_FPS = 22050 / 512


def _sine(freq: float, seconds: float = 1.0, sr: int = SR) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    return 0.5 * np.sin(2 * np.pi * freq * t)


def _music(seconds: float, sr: int = SR) -> np.ndarray:
    """A tone with a slow swell plus noise bursts: power that rises and falls."""
    rng = np.random.default_rng(3)
    t = np.arange(int(seconds * sr)) / sr
    tone = np.sin(2 * np.pi * 220 * t) * (0.5 + 0.5 * np.sin(2 * np.pi * 0.5 * t))
    bursts = rng.standard_normal(t.size) * (np.sin(2 * np.pi * 2.0 * t) > 0.6)
    return 0.3 * tone + 0.2 * bursts


# --- power_features ---------------------------------------------------------


def test_power_features_known_answer() -> None:
    # Mean over the two bands: [1, 3, 7, 5, 5].
    mel = np.array([[0.0, 2, 6, 4, 4], [2.0, 4, 8, 6, 6]])
    specm, gradm = power_features(mel)
    # np.gradient of [1, 3, 7, 5, 5] = [2, 3, 1, -1, 0]; / 3; clipped at 0.
    np.testing.assert_allclose(gradm, [2 / 3, 1, 1 / 3, 0, 0], rtol=0, atol=1e-12)
    # (specm - 1) / 6.
    np.testing.assert_allclose(specm, [0, 1 / 3, 1, 2 / 3, 2 / 3], rtol=0, atol=1e-12)


def test_power_features_flat_or_falling_gives_zeros_not_nan() -> None:
    specm, gradm = power_features(np.full((3, 6), 2.0))
    assert np.array_equal(specm, np.zeros(6)) and np.array_equal(gradm, np.zeros(6))
    specm, gradm = power_features(np.array([[5.0, 4, 3, 2]]))  # never rises
    assert np.array_equal(gradm, np.zeros(4))
    np.testing.assert_allclose(specm, [1, 2 / 3, 1 / 3, 0])


# --- the per-frame loop -----------------------------------------------------

# Three frames, z_dim 4. tempo 2, truncation 1.5: bounds ±(3 - 2) = ±1.
# jitter 0 makes every jitter 1. pitch_sensitivity 2: cv = (last + (c + dc) / 2) / 2.
LOOP = DmvSettings(
    pitch_sensitivity=2.0,
    tempo_sensitivity=2.0,
    depth=0.5,
    jitter=0.0,
    truncation=1.5,
    smooth_factor=1,
)
NV1 = np.array([0.125, -0.5, 0.75, -2.5])
CHROMA3 = np.zeros((12, 3))
CHROMA3[0] = [1.0, 1.0, 1.0]
CHROMA3[1] = [0.5, 1.0, 0.5]
CHROMA3[2] = [0.25, 0.25, 0.25]
CLASSES16 = [15 - p for p in range(12)]  # pitch p drives class 15 - p


def _loop() -> tuple[np.ndarray, np.ndarray]:
    return dmv_vectors(
        np.array([1.0, 1.0, 1.0]),
        np.array([1.0, 0.0, 0.5]),
        CHROMA3,
        classes=CLASSES16,
        settings=LOOP,
        fps=REF_FPS,
        z_dim=4,
        num_classes=16,
        rng=np.random.default_rng(0),
        initial_noise=NV1,
    )


def test_noise_vectors_known_answer_with_smoothing_and_a_turn() -> None:
    noise, _ = _loop()
    # Directions start towards zero: [-1, +1, -1, +1].
    # Frame 0: raw 2 * (1 + 1) * dir = 4 dir; smoothed (4 dir + 0) / 4 = dir.
    # Frame 1: raw 2 * 1 * dir = 2 dir; smoothed (2 dir + 3 dir) / 4 = 1.25 dir.
    #   -> [-2.125, 1.75, -1.5, -0.25]: units 0, 1, 2 pass ±1 and turn: [+1, -1, +1, +1].
    # Frame 2: raw 2 * 1.5 * dir = 3 dir; smoothed (3 dir + 3 * last) / 4:
    #   unit 0: (3 - 3.75) / 4 = -0.1875 (it would be -1.6875 without the turn).
    expected = np.array(
        [
            [0.125, -0.5, 0.75, -2.5],
            [-0.875, 0.5, -0.25, -1.5],
            [-2.125, 1.75, -1.5, -0.25],
            [-2.3125, 1.9375, -1.6875, 1.4375],
        ]
    )
    np.testing.assert_allclose(noise, expected, rtol=0, atol=1e-12)


def test_class_vectors_known_answer() -> None:
    _, cv = _loop()
    assert cv.shape == (4, 16)  # smooth_factor 1: unsmoothed, T + 1 vectors
    first = np.zeros(16)
    first[[15, 14, 13]] = [1.0, 0.5, 0.25]  # chroma of frame 0
    # Frame 0 (chroma gradient 0, 0.5, 0 for pitches 0, 1, 2):
    #   class 15: (1 + 1 / 2) / 2 = 0.75; 14: (0.5 + 1 / 2) / 2 = 0.5; 13: (0.25 + 0.125) / 2 = 0.1875.
    #   Zeros -> 0.1875, then (cv - 0.1875) / 0.5625: 15 -> 1, 14 -> 5/9, the rest 0. Depth 0.5.
    second = np.zeros(16)
    second[[15, 14]] = [0.5, 5 / 18]
    # Frame 1 (gradients 0): 15: (0.5 + 0.5) / 2 = 0.5; 14: (5/18 + 0.5) / 2 = 7/18;
    #   13: (0 + 0.125) / 2 = 1/16. (cv - 1/16) / (7/16): 15 -> 1, 14 -> 47/63. Depth 0.5.
    third = np.zeros(16)
    third[[15, 14]] = [0.5, 47 / 126]
    np.testing.assert_allclose(cv[0], first, rtol=0, atol=1e-12)
    np.testing.assert_allclose(cv[1], second, rtol=0, atol=1e-12)
    np.testing.assert_allclose(cv[2], third, rtol=0, atol=1e-12)


def test_single_remaining_class_is_nudged_at_the_strongest_pitch_class() -> None:
    chroma = np.zeros((12, 2))
    chroma[4] = 1.0  # strongest pitch: E, drives class 104
    chroma[7] = 0.5  # G drives class 107; normalised to 0 at once
    classes = list(range(100, 112))
    _, cv = dmv_vectors(
        np.zeros(2),
        np.zeros(2),
        chroma,
        classes=classes,
        settings=DmvSettings(smooth_factor=1),
        fps=REF_FPS,
        rng=np.random.default_rng(0),
    )
    # One value left (class 104 at 1): std 0 -> +0.01 at classes[chromasort[0]] = 104,
    # not at index chromasort[0] = 4 as the original's slip would.
    assert cv[1, 104] == pytest.approx(1.01, abs=1e-12)
    assert cv[1, 4] == 0.0 and cv[1, 107] == 0.0
    assert np.count_nonzero(cv[1]) == 1


def test_all_classes_equal_stays_finite_and_nudged() -> None:
    chroma = np.zeros((12, 3))
    chroma[4] = 1.0  # only one class ever has a value: the original's ptp is 0 -> NaN
    _, cv = dmv_vectors(
        np.zeros(3),
        np.zeros(3),
        chroma,
        classes=list(range(100, 112)),
        settings=DmvSettings(smooth_factor=1),
        fps=REF_FPS,
        rng=np.random.default_rng(0),
    )
    assert np.isfinite(cv).all()
    assert cv[1, 104] == pytest.approx(0.01) and np.count_nonzero(cv[1]) == 1


def test_jitters_slow_about_half_the_units_and_are_redrawn_on_schedule() -> None:
    t, z_dim = 60, 64
    settings = DmvSettings(jitter=1.0, jitter_every=20, smooth_factor=1)  # slowed units stop
    noise, _ = dmv_vectors(
        np.ones(t),
        np.zeros(t),
        np.ones((12, t)),
        classes=[0],
        settings=settings,
        fps=REF_FPS,
        z_dim=z_dim,
        rng=np.random.default_rng(1),
    )
    steps = np.abs(np.diff(noise, axis=0))  # (t, z_dim)
    still_first = (steps[:20] == 0).all(axis=0)
    moving_first = (steps[:20] > 0).all(axis=0)
    assert np.array_equal(still_first, ~moving_first)  # each unit: stopped or moving throughout
    assert 16 <= still_first.sum() <= 48
    # A stopped unit keeps its place only until the next draw (frame 20).
    later = (steps[20:40] > 0).any(axis=0)
    assert (still_first & later).any()


def test_initial_noise_is_truncated_normal_times_truncation() -> None:
    noise, _ = dmv_vectors(
        np.zeros(1),
        np.zeros(1),
        np.ones((12, 1)),
        classes=[0],
        settings=DmvSettings(truncation=0.4),
        fps=REF_FPS,
        z_dim=4096,
        rng=np.random.default_rng(2),
    )
    z = noise[0]
    assert np.abs(z).max() <= 0.8 + 1e-12
    assert 0.3 < z.std() < 0.4  # truncated N(0, 1) has std 0.88; x 0.4 = 0.35


# --- smoothing -------------------------------------------------------------


def test_smoothing_factor_2_known_answer() -> None:
    v = np.array([0.0, 2, 4, 6, 8, 10])[:, None]
    # Bins [0, 2] [4, 6] [8, 10] -> means 1, 5, 9; two bins of output, j/(sf-1) = 0, 1.
    out = smooth_class_vectors(v, 2)
    np.testing.assert_allclose(out[:, 0], [1, 5, 5, 9])


def test_smoothing_factor_3_known_answer() -> None:
    v = np.array([[0.0, 1], [3, 1], [6, 1], [9, 4], [12, 4], [15, 4], [100, 100]])
    # floor(7 / 3) - 1 = 1 bin: means (3, 1) and (12, 4); weights 0, 1/2, 1.
    out = smooth_class_vectors(v, 3)
    np.testing.assert_allclose(out, [[3, 1], [7.5, 2.5], [12, 4]])


def test_smoothing_edge_cases() -> None:
    v = np.arange(10.0).reshape(5, 2)
    assert np.array_equal(smooth_class_vectors(v, 1), v)
    assert smooth_class_vectors(v, 3).shape == (0, 2)  # one bin only: nothing


# --- frame-rate scaling ------------------------------------------------------


def test_scaled_settings() -> None:
    assert scaled_settings(DmvSettings(), REF_FPS) == pytest.approx((0.2, 10, 100))
    tempo, smooth, every = scaled_settings(DmvSettings(), 30.0)
    assert tempo == pytest.approx(0.2 * REF_FPS / 30)
    assert smooth == 7  # round(10 * 30 / 43.07) = round(6.97)
    assert every == 70  # round(100 * 30 / 43.07) = round(69.66)
    assert scaled_settings(DmvSettings(), 5.0)[1] == 2  # never below 2


def test_frame_count() -> None:
    assert frame_count(22050, SR, REF_FPS) == 1 + 22050 // 512
    assert frame_count(SR, SR, 30.0) == 31
    assert frame_count(0, SR, 30.0) == 1


# --- features ----------------------------------------------------------------


def test_mel_power_peaks_in_the_band_holding_1_khz() -> None:
    mel = mel_power(_sine(1000.0), sample_rate=SR, fps=30.0)
    assert mel.shape == (128, frame_count(SR, SR, 30.0))
    # Slaney mel: 1 kHz is mel 15; 8 kHz is 15 + 27 ln 8 / ln 6.4. 130 edges equally
    # spaced in mel from 0; band m peaks at edge m + 1.
    step = (15 + 27 * math.log(8) / math.log(6.4)) / 129
    expected = round(15 / step) - 1
    assert expected == 42
    assert int(np.argmax(mel.mean(axis=1))) == expected


def test_mel_power_at_another_rate_keeps_the_band() -> None:
    x = _sine(1000.0, sr=44100)
    mel = mel_power(x, sample_rate=44100, fps=25.0)
    assert int(np.argmax(mel.mean(axis=1))) == 42


@pytest.mark.parametrize(("freq", "pitch"), [(440.0, 9), (261.63, 0), (392.0, 7)])
def test_chromagram_peaks_at_the_pitch_class(freq: float, pitch: int) -> None:
    chroma = chromagram(_sine(freq), sample_rate=SR, fps=30.0)
    assert chroma.shape == (12, frame_count(SR, SR, 30.0))
    assert (np.argmax(chroma, axis=0) == pitch).all()
    np.testing.assert_allclose(chroma.max(axis=0), 1.0)


def test_silence_gives_zeros_without_nan() -> None:
    x = np.zeros(SR)
    mel = mel_power(x, sample_rate=SR, fps=30.0)
    chroma = chromagram(x, sample_rate=SR, fps=30.0)
    assert np.array_equal(mel, np.zeros_like(mel)) and np.array_equal(chroma, np.zeros_like(chroma))
    z, y, _ = dmv_frames(x, sample_rate=SR, fps=30.0, n_frames=30, classes=range(12))
    assert np.isfinite(z).all() and np.isfinite(y).all()


# --- end to end ----------------------------------------------------------------


def test_dmv_frames_shapes_dtype_and_truncation() -> None:
    x = _music(2.0)
    z, y, trunc = dmv_frames(
        x,
        sample_rate=SR,
        fps=30.0,
        n_frames=45,
        classes=[1, 2, 3],
        settings=DmvSettings(truncation=0.7),
        z_dim=16,
        num_classes=50,
    )
    assert z.shape == (45, 16) and y.shape == (45, 50)
    assert z.dtype == np.float32 and y.dtype == np.float32
    assert trunc == 0.7
    assert np.isfinite(z).all() and np.isfinite(y).all()
    assert set(np.nonzero(y.any(axis=0))[0]) <= {1, 2, 3}  # cycled classes only
    assert y.max() <= 1.0 + 1e-6 and y.min() >= 0.0


def test_dmv_frames_deterministic_per_seed() -> None:
    x = _music(2.0)
    kw = {"sample_rate": SR, "fps": 30.0, "n_frames": 40, "classes": range(12)}
    z1, y1, _ = dmv_frames(x, seed=5, **kw)
    z2, y2, _ = dmv_frames(x, seed=5, **kw)
    z3, _, _ = dmv_frames(x, seed=6, **kw)
    assert np.array_equal(z1, z2) and np.array_equal(y1, y2)
    assert not np.allclose(z1, z3)


def test_dmv_frames_honours_n_frames() -> None:
    x = _music(2.0)  # 61 analysis frames at 30 fps
    kw = {"sample_rate": SR, "fps": 30.0, "classes": range(12)}
    z_short, y_short, _ = dmv_frames(x, n_frames=10, **kw)
    z_long, y_long, _ = dmv_frames(x, n_frames=100, **kw)
    assert z_short.shape[0] == 10 and z_long.shape[0] == 100
    assert np.array_equal(z_short, z_long[:10]) and np.array_equal(y_short, y_long[:10])
    # Past the audio, the last vector is held.
    assert np.array_equal(z_long[70:], np.repeat(z_long[69:70], 30, axis=0))
    assert np.array_equal(y_long[-1], y_long[-2])
    z0, y0, _ = dmv_frames(x, n_frames=0, **kw)
    assert z0.shape == (0, 128) and y0.shape == (0, 1000)


def test_noise_speed_per_second_is_about_the_same_at_30_and_60_fps() -> None:
    seconds = 8.0
    x = _music(seconds)

    def speed(fps: float) -> float:
        n = int(seconds * fps)
        z, _, _ = dmv_frames(x, sample_rate=SR, fps=fps, n_frames=n, classes=range(12))
        return float(np.linalg.norm(np.diff(z, axis=0), axis=1).sum() / seconds)

    s30, s60 = speed(30.0), speed(60.0)
    assert s30 > 0
    # Unscaled, 60 fps would move twice as fast per second.
    assert 0.8 < s60 / s30 < 1.25
