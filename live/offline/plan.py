"""The generator's inputs for every video frame of a render.

``seed``: the original's motion. Between two inflections the class vector
moves from one category to the next with α = the cumulative sum of the
smoothed spectral change over the segment ÷ the segment's total, so it moves
fast where the music changes much; z is one truncated-normal vector for the
whole video. Its defects are left out: the first category gets the whole first
segment (not two frames), α reaches 1 exactly where the next segment starts (no
snap-back), and every frame time maps to its own column (no duplicated frames).

``live``: the show's own analysis and trajectory, fed the file's sound up to
each frame's time, so a render previews what the show would do.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from ganterp.live.trajectory import GenTarget, truncated_normal


@dataclass(frozen=True)
class FrameInputs:
    """What the generator paints for one frame."""

    z: np.ndarray
    y: np.ndarray
    truncation: float


def seed_alpha(curve: np.ndarray, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The original's per-column segment index and morph progress.

    Parameters
    ----------
    curve : np.ndarray, shape (n,)
        Smoothed spectral change, one value per column.
    points : np.ndarray of int
        Segment boundaries in columns: 0, the inflections, n - 1.

    Returns
    -------
    segment : np.ndarray of int, shape (n,)
        Which segment each column belongs to.
    alpha : np.ndarray, shape (n,)
        Progress from the segment's category to the next one, 0 at its start to
        1 at its end (linear where the curve is flat zero).
    """
    n = curve.shape[0]
    segment = np.zeros(n, dtype=np.int64)
    alpha = np.zeros(n)
    edges = [int(p) for p in points]
    for k, (a, b) in enumerate(pairwise(edges)):
        stop = b + 1 if k == len(edges) - 2 else b
        part = np.clip(curve[a:stop], 0.0, None)
        total = float(part.sum())
        length = stop - a
        if length <= 0:
            continue
        ramp = np.cumsum(part) / total if total > 0 else np.arange(1, length + 1) / length
        # Start the segment at 0, reach 1 at the next boundary.
        alpha[a:stop] = np.concatenate([[0.0], ramp[:-1]]) if length > 1 else [0.0]
        segment[a:stop] = k
    return segment, alpha


def seed_frames(
    curve: np.ndarray,
    points: np.ndarray,
    *,
    sample_rate: int,
    hop: int,
    fps: float,
    n_frames: int,
    categories: list[int],
    num_classes: int,
    z_dim: int,
    truncation: float,
    seed: int = 0,
) -> Iterator[FrameInputs]:
    """Yield the seed motion's inputs for frames ``0 .. n_frames - 1``.

    Parameters
    ----------
    curve, points
        See :func:`seed_alpha`.
    sample_rate : int
        The analysed audio's rate, Hz.
    hop : int
        Samples per curve column.
    fps : float
        Video frame rate.
    n_frames : int
        Frames to yield.
    categories : list of int
        One per segment, cycled; segment ``k`` morphs from ``categories[k]`` to
        ``categories[k + 1]``.
    num_classes, z_dim : int
        Sizes of the generator's inputs.
    truncation : float
        Scales z (BigGAN's truncation trick).
    seed : int
        Seed of z.
    """
    segment, alpha = seed_alpha(curve, points)
    z = (truncation * truncated_normal(np.random.default_rng(seed), z_dim)).astype(np.float32)
    n = curve.shape[0]
    for k in range(n_frames):
        column = min(n - 1, int(k / fps * sample_rate / hop)) if n else 0
        s = int(segment[column]) if n else 0
        a = float(alpha[column]) if n else 0.0
        y = np.zeros(num_classes, dtype=np.float32)
        y[categories[s % len(categories)]] += 1.0 - a
        y[categories[(s + 1) % len(categories)]] += a
        yield FrameInputs(z, y, truncation)


def from_target(target: GenTarget) -> FrameInputs:
    """The inputs of a trajectory target."""
    return FrameInputs(
        np.asarray(target.z, dtype=np.float32),
        np.asarray(target.y, dtype=np.float32),
        float(target.truncation),
    )
