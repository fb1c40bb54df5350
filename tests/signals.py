"""Known-answer music-like signals shared by the engine and display tests."""

from __future__ import annotations

import numpy as np


def section(
    seconds: float, sr: int, *, root_hz: float, seed: int, pulse_hz: float = 4.0
) -> np.ndarray:
    """A busy musical section: a chord with tremolo plus rhythmic noise hits.

    Returns
    -------
    np.ndarray, shape (n,), float32, peak about 0.5
    """
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr
    chord = sum(np.sin(2 * np.pi * root_hz * r * t) for r in (1.0, 1.25, 1.5, 2.0))
    chord *= 0.5 + 0.5 * np.sin(2 * np.pi * 6.0 * t) ** 2
    hits = np.zeros_like(t)
    period = int(sr / pulse_hz)
    burst = int(0.03 * sr)
    env = np.exp(-np.arange(burst) / (burst / 5))
    for start in range(0, len(t) - burst, period):
        hits[start : start + burst] += rng.standard_normal(burst) * env
    x = 0.08 * chord + 0.35 * hits
    return (x / np.max(np.abs(x)) * 0.5).astype(np.float32)


def sections_with_gaps(
    sr: int, *, lengths: tuple[float, ...] = (5.0, 5.0), gap: float = 1.0
) -> tuple[np.ndarray, list[tuple[float, float]]]:
    """Sections of different character separated by silent gaps.

    Returns
    -------
    audio : np.ndarray, shape (n,), float32
    gaps : list of (start_s, end_s)
    """
    parts, gaps, t = [], [], 0.0
    roots = (220.0, 330.0, 185.0, 262.0)
    for i, length in enumerate(lengths):
        parts.append(section(length, sr, root_hz=roots[i % 4], seed=i, pulse_hz=3.0 + 2 * (i % 2)))
        t += length
        if i < len(lengths) - 1:
            parts.append(np.zeros(int(gap * sr), dtype=np.float32))
            gaps.append((t, t + gap))
            t += gap
    return np.concatenate(parts), gaps
