"""How well a picture follows its music: the musicality measures.

Pure functions over arrays, so the bench, the tests and anyone with a video and
its sound compute the same figures. Everything is per video frame: frame ``k``
shows time ``k / fps``; ``visual[k]`` is the picture's change arriving with
frame ``k`` and ``flux[k]`` the sound's change between frames ``k - 1`` and ``k``.

The measures (the README's "Musicality" section gives the same definitions):

* **visual change**: mean absolute difference of consecutive RGB frames, in
  8-bit levels (0-255), :func:`visual_change`;
* **spectral flux**: the sum over frequency of the positive part of the
  magnitude spectrum's rise from one frame to the next (2048-sample Hann
  window at 44.1 kHz, scaled with the rate), :func:`spectral_flux`;
* **follow ρ**: Spearman correlation of visual change and flux, both smoothed
  by a centred 0.5 s moving average, :func:`follow_rho`;
* **section response**: mean visual change within ±1 s of an inflection ÷ the
  mean elsewhere, :func:`section_response`;
* **beat response**: the mean, over beats, of the visual change in the frames
  of the 150 ms after each beat ÷ the mean over all frames, :func:`beat_response`;
* **calm in silence**: mean visual change in frames whose level (RMS over a
  centred 0.5 s window) is below -50 dBFS ÷ the mean over all frames,
  :func:`calm_in_silence`;
* **longest still stretch**: the longest run of frames whose visual change is
  under one level while the level is above -30 dBFS, seconds,
  :func:`longest_still`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

#: Window of the smoothing applied before correlating, seconds.
SMOOTHING_S = 0.5
#: Half-width of the window around an inflection, seconds.
SECTION_WINDOW_S = 1.0
#: Time after a beat whose frames count as its response, seconds.
BEAT_WINDOW_S = 0.15
#: Level below which a passage is silence, dBFS.
SILENCE_DB = -50.0
#: Level above which the picture must not stand still, dBFS.
SOUND_DB = -30.0
#: Visual change under which a frame counts as still, 8-bit levels.
STILL_LEVELS = 1.0
#: Window of the level measure, seconds.
LEVEL_WINDOW_S = 0.5


def visual_change(previous: np.ndarray, frame: np.ndarray) -> float:
    """Mean absolute difference of two RGB frames.

    Parameters
    ----------
    previous, frame : np.ndarray, shape (H, W, 3), uint8
        Consecutive frames.

    Returns
    -------
    float
        In 8-bit levels, 0 (identical) to 255.
    """
    a = np.asarray(previous, dtype=np.int16)
    b = np.asarray(frame, dtype=np.int16)
    return float(np.mean(np.abs(b - a)))


def _frame_samples(x: np.ndarray, sample_rate: float, fps: float, n_frames: int) -> np.ndarray:
    """Sample index of each frame's time, clipped to the signal."""
    centres = np.round(np.arange(n_frames) * sample_rate / fps).astype(np.int64)
    return np.clip(centres, 0, max(x.shape[0] - 1, 0))


def spectral_flux(x: np.ndarray, *, sample_rate: float, fps: float, n_frames: int) -> np.ndarray:
    """Positive spectral flux of a mono signal at the video's frame times.

    Parameters
    ----------
    x : np.ndarray, shape (n,)
        Mono signal in [-1, 1].
    sample_rate : float
        Its rate, Hz.
    fps : float
        Video frame rate.
    n_frames : int
        Number of frames.

    Returns
    -------
    np.ndarray, shape (n_frames,)
        ``flux[k] = sum_f max(0, |X_k(f)| - |X_(k-1)(f)|)`` with ``X_k`` the
        spectrum of a Hann window centred on frame ``k``'s time (zero padded at
        the edges); ``flux[0] = 0``.
    """
    x = np.asarray(x, dtype=np.float64)
    n_fft = 1 << max(4, math.ceil(math.log2(2048 * sample_rate / 44100.0)))
    half = n_fft // 2
    padded = np.concatenate([np.zeros(half), x, np.zeros(half)])
    window = np.hanning(n_fft)
    starts = _frame_samples(x, sample_rate, fps, n_frames)
    mags = np.empty((n_frames, half + 1))
    for lo in range(0, n_frames, 256):  # bounded memory for long files
        idx = starts[lo : lo + 256, None] + np.arange(n_fft)[None, :]
        mags[lo : lo + 256] = np.abs(np.fft.rfft(padded[idx] * window, axis=1))
    flux = np.zeros(n_frames)
    if n_frames > 1:
        flux[1:] = np.maximum(np.diff(mags, axis=0), 0.0).sum(axis=1)
    return flux


def frame_levels_db(x: np.ndarray, *, sample_rate: float, fps: float, n_frames: int) -> np.ndarray:
    """RMS level around each frame's time over :data:`LEVEL_WINDOW_S`, dBFS.

    Returns
    -------
    np.ndarray, shape (n_frames,)
        -120 dBFS for digital silence.
    """
    x = np.asarray(x, dtype=np.float64)
    csum = np.concatenate([[0.0], np.cumsum(x * x)])
    centres = _frame_samples(x, sample_rate, fps, n_frames)
    half = round(LEVEL_WINDOW_S * sample_rate / 2)
    lo = np.clip(centres - half, 0, x.shape[0])
    hi = np.clip(centres + half, 0, x.shape[0])
    power = (csum[hi] - csum[lo]) / np.maximum(hi - lo, 1)
    return np.where(power > 1e-12, 10.0 * np.log10(np.maximum(power, 1e-12)), -120.0)


def smooth(values: np.ndarray, *, fps: float, seconds: float = SMOOTHING_S) -> np.ndarray:
    """Centred moving average over ``seconds`` (shorter at the edges).

    Parameters
    ----------
    values : np.ndarray, shape (n,)
        One value per frame.
    fps : float
        Frames per second.
    seconds : float
        Window length.

    Returns
    -------
    np.ndarray, shape (n,)
    """
    v = np.asarray(values, dtype=np.float64)
    w = max(1, round(seconds * fps))
    csum = np.concatenate([[0.0], np.cumsum(v)])
    k = np.arange(v.shape[0])
    lo = np.clip(k - w // 2, 0, v.shape[0])
    hi = np.clip(k - w // 2 + w, 0, v.shape[0])
    return (csum[hi] - csum[lo]) / np.maximum(hi - lo, 1)


def _ranks(v: np.ndarray) -> np.ndarray:
    """Ranks from 1, ties given their mean rank."""
    order = np.argsort(v, kind="mergesort")
    ranks = np.empty(v.shape[0])
    ranks[order] = np.arange(1, v.shape[0] + 1)
    _, inverse, counts = np.unique(v, return_inverse=True, return_counts=True)
    sums = np.bincount(inverse, weights=ranks)
    return sums[inverse] / counts[inverse]


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman rank correlation of two equally long series (NaN if either is constant)."""
    ra, rb = _ranks(np.asarray(a, dtype=np.float64)), _ranks(np.asarray(b, dtype=np.float64))
    ra -= ra.mean()
    rb -= rb.mean()
    denom = math.sqrt(float(np.dot(ra, ra)) * float(np.dot(rb, rb)))
    return float(np.dot(ra, rb)) / denom if denom > 0 else math.nan


def follow_rho(visual: np.ndarray, flux: np.ndarray, *, fps: float) -> float:
    """Spearman correlation of visual change and flux, both smoothed over 0.5 s.

    The first frame (no change defined) is left out.
    """
    return spearman(smooth(visual, fps=fps)[1:], smooth(flux, fps=fps)[1:])


def _frame_times(n: int, fps: float) -> np.ndarray:
    return np.arange(n) / fps


def section_response(visual: np.ndarray, inflections_s: Sequence[float], *, fps: float) -> float:
    """Mean visual change within ±1 s of the inflections ÷ the mean elsewhere.

    Returns NaN when there is no inflection or no frame elsewhere.
    """
    v = np.asarray(visual, dtype=np.float64)[1:]
    t = _frame_times(v.shape[0] + 1, fps)[1:]
    near = np.zeros(v.shape[0], dtype=bool)
    for s in inflections_s:
        near |= np.abs(t - s) <= SECTION_WINDOW_S
    if not near.any() or near.all():
        return math.nan
    elsewhere = float(v[~near].mean())
    return float(v[near].mean()) / elsewhere if elsewhere > 0 else math.inf


def beat_response(visual: np.ndarray, beats_s: Sequence[float], *, fps: float) -> float:
    """Mean over beats of the visual change in the 150 ms after each ÷ the mean of all frames.

    A beat's frames are those whose time ``t`` has ``b < t <= b + 0.15``. NaN
    without beats.
    """
    v = np.asarray(visual, dtype=np.float64)
    total = float(v[1:].mean()) if v.shape[0] > 1 else 0.0
    responses = []
    for b in beats_s:
        lo = math.floor(b * fps) + 1
        hi = math.floor((b + BEAT_WINDOW_S) * fps) + 1
        lo, hi = max(lo, 1), min(hi, v.shape[0])
        if hi > lo:
            responses.append(float(v[lo:hi].mean()))
    if not responses or total <= 0:
        return math.nan
    return float(np.mean(responses)) / total


def calm_in_silence(visual: np.ndarray, levels_db: np.ndarray) -> float:
    """Mean visual change in frames below -50 dBFS ÷ the mean of all frames (NaN if none)."""
    v = np.asarray(visual, dtype=np.float64)[1:]
    quiet = np.asarray(levels_db)[1:] < SILENCE_DB
    total = float(v.mean()) if v.size else 0.0
    if not quiet.any() or total <= 0:
        return math.nan
    return float(v[quiet].mean()) / total


def longest_still(visual: np.ndarray, levels_db: np.ndarray, *, fps: float) -> float:
    """Longest run of frames changing by under one level while the sound is above -30 dBFS, s."""
    v = np.asarray(visual, dtype=np.float64)[1:]
    still = (v < STILL_LEVELS) & (np.asarray(levels_db)[1:] > SOUND_DB)
    best = run = 0
    for s in still.tolist():
        run = run + 1 if s else 0
        best = max(best, run)
    return best / fps


def steady_beats(beats_s: Sequence[float], duration_s: float) -> bool:
    """Whether the beats drive the recording: dense and regular.

    At least one beat every 1.5 s on average, and 70 % of the intervals within
    10 % of their median.
    """
    b = np.asarray(beats_s, dtype=np.float64)
    if b.shape[0] < 8 or b.shape[0] < duration_s / 1.5:
        return False
    intervals = np.diff(b)
    median = float(np.median(intervals))
    return median > 0 and float(np.mean(np.abs(intervals - median) <= 0.1 * median)) >= 0.7
