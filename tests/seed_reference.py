"""A plain re-implementation of the original GANterpretations analysis (Python 3).

Written from the original ``src/ganterpreter.py``; it imports nothing from the
project, so that the project's code is checked against an independent version.
"""

from __future__ import annotations

import warnings

import numpy as np
from matplotlib import mlab


def reference_spectrogram(x: np.ndarray, fs: float) -> np.ndarray:
    """``plt.specgram(x, Fs=fs)``'s spectrum: NFFT 256, noverlap 128, Hann, PSD."""
    spectrum, _, _ = mlab.specgram(np.asarray(x, dtype=np.float64), NFFT=256, Fs=fs, noverlap=128)
    return spectrum


def reference_tv_diffs(spectrum: np.ndarray) -> np.ndarray:
    """The original's spectral change, before normalisation."""
    return np.array(
        [np.mean(np.abs(spectrum[:, i] - spectrum[:, i + 1])) for i in range(spectrum.shape[1] - 1)]
    )


def running_mean(x: np.ndarray, n: int) -> np.ndarray:
    cumsum = np.cumsum(np.insert(x, 0, 0))
    return (cumsum[n:] - cumsum[:-n]) / float(n)


def reference_curve(x: np.ndarray, fs: float, smoothing: int = 256) -> np.ndarray:
    """The original's normalised, smoothed spectral-change curve."""
    tv_diffs = reference_tv_diffs(reference_spectrogram(x, fs))
    tv_diffs = tv_diffs / max(tv_diffs)
    rm = running_mean(tv_diffs, smoothing)
    return np.append(np.array([rm[0]] * smoothing), rm)


def get_inflection_points(
    arr: np.ndarray,
    threshold: float,
    absolute_threshold: float = 8e-2,
    type: str = "both",  # the original's name
    rolling_length: int = 200,
) -> np.ndarray:
    """The original's scan, line for line (an empty look-ahead gives a NaN mean)."""
    inflection_points = [0]
    i = 0
    with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        while i < len(arr) - rolling_length - 1:
            prev_mean = np.mean(arr[i : i + rolling_length])
            curr_pos = i + rolling_length + 1
            next_mean = np.mean(arr[curr_pos + 1 : curr_pos + rolling_length + 1])
            is_peak = np.sign(arr[curr_pos] - prev_mean) == np.sign(
                arr[curr_pos] - next_mean
            ) and np.sign(arr[curr_pos] - arr[curr_pos - 1]) == np.sign(
                arr[curr_pos] - arr[curr_pos + 1]
            )
            if (
                is_peak
                and np.abs(arr[curr_pos] - prev_mean) > threshold
                and np.abs(arr[curr_pos] - next_mean) > threshold
            ):
                if (
                    type == "min"
                    and (arr[curr_pos] > arr[curr_pos - 1] or arr[curr_pos] > absolute_threshold)
                ) or (type == "max" and arr[curr_pos] < arr[curr_pos - 1]):
                    i += rolling_length
                    continue
                inflection_points.append(curr_pos)
                i += rolling_length
            else:
                i += 1
    inflection_points.append(len(arr) - 1)
    return np.array(inflection_points)


# -- test signals -----------------------------------------------------------------------


def sections_signal(
    fs: int,
    sections: list[str],
    gaps_s: list[float],
    *,
    section_s: float = 4.0,
    gap_noise: float = 0.0,
    seed: int = 0,
) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """Busy sections separated by quiet gaps; returns the signal and the gaps' sample spans.

    Section kinds: ``noise`` (white), ``chord`` (a tremolo chord over light noise),
    ``arpeggio`` (a new tone every 60 ms over light noise), ``bursts`` (noise bursts
    every 90 ms), ``lowpass`` (low-passed noise).
    """
    assert len(gaps_s) == len(sections) - 1
    rng = np.random.default_rng(seed)
    n = int(section_s * fs)
    t = np.arange(n) / fs
    parts: list[np.ndarray] = []
    gaps: list[tuple[int, int]] = []
    pos = 0
    for k, kind in enumerate(sections):
        if kind == "noise":
            s = 0.3 * rng.standard_normal(n)
        elif kind == "chord":
            tremolo = 0.5 + 0.5 * np.sin(2 * np.pi * 7.0 * t)
            s = tremolo * sum(0.15 * np.sin(2 * np.pi * f * t) for f in (261.6, 329.6, 392.0))
            s = s + 0.2 * rng.standard_normal(n)
        elif kind == "arpeggio":
            step = int(0.06 * fs)
            freqs = np.array([440.0, 554.4, 659.3, 880.0, 1108.7])
            f = freqs[(np.arange(n) // step) % len(freqs)]
            s = 0.4 * np.sin(2 * np.pi * np.cumsum(f) / fs) + 0.1 * rng.standard_normal(n)
        elif kind == "bursts":
            env = ((np.arange(n) % int(0.09 * fs)) < int(0.03 * fs)).astype(float)
            s = 0.4 * env * rng.standard_normal(n)
        elif kind == "lowpass":
            w = rng.standard_normal(n + 16)
            s = 0.3 * np.convolve(w, np.ones(16) / 4.0, mode="valid")[:n]
        else:
            raise ValueError(kind)
        parts.append(s)
        pos += n
        if k < len(gaps_s):
            g = round(gaps_s[k] * fs)
            parts.append(gap_noise * rng.standard_normal(g))
            gaps.append((pos, pos + g))
            pos += g
    return np.concatenate(parts), gaps


def gap_of(
    column: int, spans: list[tuple[int, int]], *, smoothing: int, hop: int = 128, nfft: int = 256
) -> int | None:
    """Index of the gap an inflection at ``column`` belongs to, or None.

    ``curve[k]`` (trailing mean of ``smoothing`` changes) depends on the samples
    ``[hop * (k - smoothing), hop * k + nfft)``; a low point caused by a gap has that
    span overlapping the gap (see test_inflection.py's notes).
    """
    for k, (start, end) in enumerate(spans):
        if start - nfft < hop * column < end + hop * smoothing:
            return k
    return None
