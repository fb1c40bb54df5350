"""Analysing a whole file: the original's offline inflections, the show's causal ones, and more.

``seed`` is the original algorithm at its own resolution (NFFT 256, hop 128 at
the file's rate, global normalisation, 200-column look-ahead). ``live`` is the
show's causal detector run over the file as if it were played. Onsets, beats and
the tempo come from the show's analyser in both cases; the segments between
inflections get their categories the way the show assigns them (the list,
cycled, or a bank drawn from the seed).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np

from ganterp.live.analysis.analyzer import Analyzer
from ganterp.live.analysis.features import Beat, Onset
from ganterp.live.analysis.inflection import (
    SEED_ABSOLUTE_THRESHOLD,
    Inflection,
    seed_curve,
    seed_inflections,
)
from ganterp.live.audio.channels import to_mono
from ganterp.live.audio.decode import read_all
from ganterp.live.settings.schema import Config
from ganterp.live.trajectory import category_bank
from ganterp.models.classes import NUM_CLASSES, load_class_names, short_name

SEED_NFFT = 256
SEED_HOP = 128
_BLOCK = 4096

"""How a stereo file becomes the mono signal analysed."""


@dataclass(frozen=True)
class Segment:
    """A stretch between two inflections and its category."""

    start_s: float
    end_s: float
    category: int
    name: str


@dataclass
class FileAnalysis:
    """Everything ``ganterp analyze`` reports about a file.

    Attributes
    ----------
    duration_s, sample_rate : float, int
        Of the analysed signal.
    analysis : str
        Which inflections drive the segments: ``"seed"`` or ``"live"``.
    seed_inflections_s, live_inflections_s : list of float
        Both analyses' inflections, seconds.
    beats_s, onsets_s : list of float
        From the show's analyser, seconds.
    bpm : float
        Median tempo over the file (0 when none was found).
    segments : list of Segment
    seed_times_s, seed_change, seed_curve : np.ndarray
        The original's spectral change (normalised) and its smoothed curve, per column.
    live_times_s, live_curve : np.ndarray
        The causal detector's curve, per analysis hop.
    seed_threshold, absolute_threshold : float
        The seed scan's difference threshold and its absolute ceiling for minima.
    """

    duration_s: float
    sample_rate: int
    analysis: str
    seed_inflections_s: list[float]
    live_inflections_s: list[float]
    beats_s: list[float]
    onsets_s: list[float]
    bpm: float
    segments: list[Segment]
    seed_threshold: float
    absolute_threshold: float = SEED_ABSOLUTE_THRESHOLD
    seed_times_s: np.ndarray = field(default_factory=lambda: np.zeros(0))
    seed_change: np.ndarray = field(default_factory=lambda: np.zeros(0))
    seed_curve: np.ndarray = field(default_factory=lambda: np.zeros(0))
    live_times_s: np.ndarray = field(default_factory=lambda: np.zeros(0))
    live_curve: np.ndarray = field(default_factory=lambda: np.zeros(0))

    @property
    def inflections_s(self) -> list[float]:
        """The inflections of the chosen analysis."""
        return self.seed_inflections_s if self.analysis == "seed" else self.live_inflections_s

    def to_json(self) -> dict[str, Any]:
        """The documented JSON form (plus both analyses' inflections)."""
        return {
            "duration_s": self.duration_s,
            "sample_rate": self.sample_rate,
            "analysis": self.analysis,
            "inflections_s": self.inflections_s,
            "beats_s": self.beats_s,
            "onsets_s": self.onsets_s,
            "bpm": self.bpm,
            "segments": [
                {"start_s": s.start_s, "end_s": s.end_s, "category": s.category, "name": s.name}
                for s in self.segments
            ],
            "seed_inflections_s": self.seed_inflections_s,
            "live_inflections_s": self.live_inflections_s,
        }


def segments_for(
    boundaries_s: list[float], duration_s: float, categories: list[int], names: tuple[str, ...]
) -> list[Segment]:
    """Segments between inflections, with categories cycled in order (as the show does)."""
    edges = [0.0, *[t for t in boundaries_s if 0.0 < t < duration_s], duration_s]
    out = []
    for i, (a, b) in enumerate(pairwise(edges)):
        category = categories[i % len(categories)]
        out.append(Segment(a, b, category, short_name(names[category])))
    return out


def _live_pass(x: np.ndarray, sr: int, config: Config) -> tuple[Any, ...]:

    analyzer = Analyzer(sr, config.analysis, config.inflection)
    onsets: list[float] = []
    beats: list[float] = []
    inflections: list[float] = []
    times: list[float] = []
    curve: list[float] = []
    bpms: list[float] = []
    padded = np.concatenate(
        [x, np.zeros(int(config.inflection.lookahead_s * sr) + _BLOCK, x.dtype)]
    )
    for start in range(0, padded.shape[0], _BLOCK):
        features, events = analyzer.process(padded[start : start + _BLOCK], start)
        for f in features:
            times.append(f.time_s)
            curve.append(f.curve)
            if f.bpm > 0:
                bpms.append(f.bpm)
        for e in events:
            if isinstance(e, Onset):
                onsets.append(e.time_s)
            elif isinstance(e, Beat):
                beats.append(e.time_s)
            elif isinstance(e, Inflection):
                inflections.append(e.time_s)
    duration = x.shape[0] / sr
    keep = [t for t in inflections if t < duration]
    bpm = float(np.median(bpms)) if bpms else 0.0
    return (
        [t for t in onsets if t < duration],
        [t for t in beats if t < duration],
        keep,
        np.asarray(times),
        np.asarray(curve),
        bpm,
    )


def analyze_signal(
    x: np.ndarray,
    sr: int,
    config: Config,
    *,
    analysis: str = "seed",
    categories: list[int] | None = None,
) -> FileAnalysis:
    """Analyse a mono signal both ways.

    Parameters
    ----------
    x : np.ndarray, shape (n,)
        Mono audio in [-1, 1].
    sr : int
        Sample rate, Hz.
    config : Config
        The analysis, inflection and trajectory settings (threshold, look-ahead, seed).
    analysis : str
        ``"seed"`` or ``"live"``: whose inflections make the segments.
    categories : list of int, optional
        One per segment, cycled; by default the trajectory's bank for its seed.
    """
    if analysis not in ("seed", "live"):
        raise ValueError(f"analysis must be 'seed' or 'live', not '{analysis}'")
    duration = x.shape[0] / sr
    change, curve = seed_curve(x, sample_rate=sr, nfft=SEED_NFFT, hop=SEED_HOP)
    threshold = config.inflection.threshold
    absolute = config.inflection.absolute_threshold
    columns = (
        seed_inflections(curve, threshold=threshold, absolute_threshold=absolute)
        if curve.size
        else np.zeros(0, int)
    )
    # The scan returns the original's boundaries too (column 0 and the last): drop them.
    # Column c is the spectrogram window starting at c * hop; the original drew frame c there.
    seed_s = [float(c) * SEED_HOP / sr for c in columns[1:-1]]
    onsets, beats, live_s, live_t, live_curve, bpm = _live_pass(x, sr, config)
    t = config.trajectory
    cats = categories or category_bank(t.seed, t.bank_size, NUM_CLASSES)
    boundaries = seed_s if analysis == "seed" else live_s
    return FileAnalysis(
        duration_s=duration,
        sample_rate=sr,
        analysis=analysis,
        seed_inflections_s=seed_s,
        live_inflections_s=live_s,
        beats_s=beats,
        onsets_s=onsets,
        bpm=bpm,
        segments=segments_for(boundaries, duration, cats, load_class_names()),
        seed_threshold=threshold,
        absolute_threshold=absolute,
        seed_times_s=np.arange(curve.size) * SEED_HOP / sr,
        seed_change=change,
        seed_curve=curve,
        live_times_s=live_t,
        live_curve=live_curve,
    )


def analyze_file(
    path: Path,
    config: Config,
    *,
    analysis: str = "seed",
    channel: str = "mix",
    categories: list[int] | None = None,
) -> FileAnalysis:
    """Decode ``path`` and analyse it (see :func:`analyze_signal`).

    Raises
    ------
    AudioFileError
        One line for a missing, empty, truncated or non-audio file.
    """
    samples, sr = read_all(path)
    return analyze_signal(
        to_mono(samples, channel), sr, config, analysis=analysis, categories=categories
    )
