"""``ganterp bench --only music``: how well the picture follows the music, against a peer.

Each recording is painted twice on the same generator, size and frame rate:
through the show's own analysis and trajectory (the ``--analysis live`` path of
``ganterp render``), and through deep-music-visualizer's published mapping
(:mod:`ganterp.live.offline.dmv`). Both pictures are scored with the measures of
:mod:`ganterp.live.offline.musicality` against the same sound.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ganterp.live.analysis.analyzer import Analyzer
from ganterp.live.analysis.features import Beat
from ganterp.live.analysis.inflection import seed_curve, seed_inflections
from ganterp.live.audio.channels import to_mono
from ganterp.live.audio.decode import read_all
from ganterp.live.offline import musicality as m
from ganterp.live.offline.dmv import dmv_frames
from ganterp.live.offline.file_analysis import SEED_HOP
from ganterp.live.offline.render import fit_batch, live_frames
from ganterp.live.settings.schema import Config
from ganterp.live.trajectory import category_bank
from ganterp.models.base import Generator

#: The offline scan's threshold the section response is measured against.
SECTION_THRESHOLD = 0.01
#: Frames per generator call.
BATCH = 8
#: The mappings compared, in table order.
MAPPINGS = ("ganterp", "dmv")


@dataclass(frozen=True)
class Recording:
    """One recording's sound, cut to the length benchmarked."""

    name: str
    path: Path
    mono: np.ndarray
    sample_rate: int

    @property
    def duration_s(self) -> float:
        """Length in seconds."""
        return self.mono.shape[0] / self.sample_rate


def load_recording(path: Path, seconds: float, name: str | None = None) -> Recording:
    """Decode a file to mono and keep its first ``seconds`` (0: all of it).

    Parameters
    ----------
    path : Path
        The audio file.
    seconds : float
        Length kept, seconds; 0 keeps the whole file.
    name : str, optional
        Its name in the tables (the file's name when omitted).

    Returns
    -------
    Recording
        Mono float32 samples at the file's own rate.
    """
    audio, sr = read_all(path)
    mono = to_mono(audio)
    if seconds > 0:
        mono = mono[: round(seconds * sr)]
    return Recording(name or path.name, path, mono, int(sr))


def reference_events(rec: Recording, config: Config) -> tuple[list[float], list[float]]:
    """The original's offline inflections (θ 0.01) and the show's beats.

    Parameters
    ----------
    rec : Recording
        The sound.
    config : Config
        The analysis and inflection settings.

    Returns
    -------
    inflections : list of float
        Times of the original's inflections, seconds (without the first and last column).
    beats : list of float
        Times of the beats the show's analysis reports, seconds.
    """
    _, curve = seed_curve(rec.mono, sample_rate=rec.sample_rate)
    cols = seed_inflections(
        curve,
        threshold=SECTION_THRESHOLD,
        absolute_threshold=config.inflection.absolute_threshold,
    )[1:-1]
    inflections = [float(c) * SEED_HOP / rec.sample_rate for c in cols]
    analyzer = Analyzer(rec.sample_rate, config.analysis, config.inflection)
    beats: list[float] = []
    for start in range(0, rec.mono.shape[0], 4096):
        _, events = analyzer.process(rec.mono[start : start + 4096], start)
        beats.extend(e.time_s for e in events if isinstance(e, Beat))
    return inflections, beats


def paint_changes(
    generator: Generator, inputs: Iterable[tuple[np.ndarray, np.ndarray, float]], n_frames: int
) -> np.ndarray:
    """Paint frames and return the visual change of each, 8-bit levels.

    Parameters
    ----------
    generator : Generator
        What paints.
    inputs : iterable of (z, y, truncation)
        One per frame.
    n_frames : int
        Frames to paint.

    Returns
    -------
    np.ndarray, shape (n_frames,)
        ``out[0] = 0``; ``out[k]`` the mean absolute difference of frames ``k - 1`` and ``k``.
    """
    size = (generator.resolution, generator.resolution)
    out = np.zeros(n_frames)
    previous: np.ndarray | None = None
    it = iter(inputs)
    k = 0
    while k < n_frames:
        chunk = [f for _, f in zip(range(min(BATCH, n_frames - k)), it, strict=False)]
        if not chunk:
            break
        z = torch.from_numpy(np.stack([c[0] for c in chunk]).astype(np.float32))
        y = torch.from_numpy(np.stack([c[1] for c in chunk]).astype(np.float32))
        with torch.inference_mode():
            images = generator(z, y, float(chunk[0][2]))
        for image in fit_batch(images, size):
            if previous is not None:
                out[k] = m.visual_change(previous, image)
            previous = image
            k += 1
    return out


def _ganterp_inputs(
    rec: Recording, config: Config, generator: Generator, fps: float, n_frames: int
) -> Iterator[tuple[np.ndarray, np.ndarray, float]]:
    found: list[float] = []
    for f in live_frames(
        rec.path,
        config,
        channel="mix",
        fps=fps,
        n_frames=n_frames,
        categories=_categories(config, generator),
        z_dim=generator.z_dim,
        num_classes=generator.num_classes,
        inflections=found,
    ):
        yield f.z, f.y, f.truncation


def _dmv_inputs(
    rec: Recording, config: Config, generator: Generator, fps: float, n_frames: int
) -> Iterator[tuple[np.ndarray, np.ndarray, float]]:
    z, y, truncation = dmv_frames(
        rec.mono,
        sample_rate=rec.sample_rate,
        fps=fps,
        n_frames=n_frames,
        classes=_categories(config, generator)[:12],
        z_dim=generator.z_dim,
        num_classes=generator.num_classes,
        seed=config.trajectory.seed,
    )
    for k in range(n_frames):
        yield z[k], y[k], truncation


def _categories(config: Config, generator: Generator) -> list[int]:
    return category_bank(config.trajectory.seed, 12, generator.num_classes)


def score(
    visual: np.ndarray,
    *,
    flux: np.ndarray,
    levels_db: np.ndarray,
    inflections_s: list[float],
    beats_s: list[float],
    fps: float,
) -> dict[str, float]:
    """Every measure of one picture against its sound.

    Parameters
    ----------
    visual : np.ndarray, shape (n_frames,)
        Visual change of each frame, 8-bit levels (as :func:`paint_changes` gives).
    flux : np.ndarray, shape (n_frames,)
        The sound's spectral flux per frame.
    levels_db : np.ndarray, shape (n_frames,)
        The sound's level per frame, dBFS.
    inflections_s, beats_s : list of float
        Times of the reference inflections and beats, seconds.
    fps : float
        Frame rate, frames per second.

    Returns
    -------
    dict
        ``follow_rho``, ``section_response``, ``beat_response``, ``calm_in_silence``,
        ``longest_still_s`` (seconds) and ``mean_change`` (8-bit levels).
    """
    return {
        "follow_rho": m.follow_rho(visual, flux, fps=fps),
        "section_response": m.section_response(visual, inflections_s, fps=fps),
        "beat_response": m.beat_response(visual, beats_s, fps=fps),
        "calm_in_silence": m.calm_in_silence(visual, levels_db),
        "longest_still_s": m.longest_still(visual, levels_db, fps=fps),
        "mean_change": float(np.mean(visual[1:])) if visual.shape[0] > 1 else 0.0,
    }


def bench_recording(
    rec: Recording, config: Config, generator: Generator, *, fps: float
) -> dict[str, Any]:
    """Both mappings' measures on one recording, plus the series for the plot.

    Parameters
    ----------
    rec : Recording
        The sound.
    config : Config
        The show's settings.
    generator : Generator
        What paints both pictures.
    fps : float
        Frame rate, frames per second.

    Returns
    -------
    dict
        The recording's name, path, length (seconds), rate (Hz), reference
        inflections (seconds), beat count, whether it is beat-driven and its silent
        fraction; per mapping (``ganterp``, ``dmv``) the measures of :func:`score` and
        ``paint_s`` (seconds); and ``series`` (flux and each mapping's change per frame).
    """
    n_frames = max(2, math.floor(rec.duration_s * fps))
    flux = m.spectral_flux(rec.mono, sample_rate=rec.sample_rate, fps=fps, n_frames=n_frames)
    levels = m.frame_levels_db(rec.mono, sample_rate=rec.sample_rate, fps=fps, n_frames=n_frames)
    inflections, beats = reference_events(rec, config)
    out: dict[str, Any] = {
        "name": rec.name,
        "path": str(rec.path),
        "duration_s": rec.duration_s,
        "sample_rate": rec.sample_rate,
        "inflections_s": inflections,
        "beats": len(beats),
        "beat_driven": m.steady_beats(beats, rec.duration_s),
        "silent_fraction": float(np.mean(levels < m.SILENCE_DB)),
        "series": {"flux": flux.tolist()},
    }
    for name, inputs in (("ganterp", _ganterp_inputs), ("dmv", _dmv_inputs)):
        t0 = time.perf_counter()
        visual = paint_changes(generator, inputs(rec, config, generator, fps, n_frames), n_frames)
        out[name] = score(
            visual, flux=flux, levels_db=levels, inflections_s=inflections, beats_s=beats, fps=fps
        )
        out[name]["paint_s"] = time.perf_counter() - t0
        out["series"][name] = visual.tolist()
    return out


def bench_music(
    recordings: list[Recording], config: Config, generator: Generator, *, fps: float
) -> dict[str, Any]:
    """The musicality bench over several recordings, with the medians over them.

    Parameters
    ----------
    recordings : list of Recording
        The sounds (at least one).
    config : Config
        The show's settings.
    generator : Generator
        What paints.
    fps : float
        Frame rate, frames per second.

    Returns
    -------
    dict
        ``generator`` (its status), ``resolution`` (px), ``fps``, ``recordings`` (the
        rows of :func:`bench_recording`) and ``median`` (per mapping, each measure's
        median over the recordings, NaNs left out).
    """
    rows = [bench_recording(rec, config, generator, fps=fps) for rec in recordings]
    summary: dict[str, Any] = {}
    for mapping in MAPPINGS:
        summary[mapping] = {
            key: _nanmedian([r[mapping][key] for r in rows]) for key in rows[0][mapping]
        }
    return {
        "generator": generator.status,
        "resolution": generator.resolution,
        "fps": fps,
        "recordings": rows,
        "median": summary,
    }


def _nanmedian(values: list[float]) -> float:
    finite = [v for v in values if not math.isnan(v)]
    return float(np.median(finite)) if finite else math.nan


def plot_music(result: dict[str, Any], path: Path) -> None:
    """One panel per recording: the sound's flux and both pictures' change over time.

    Parameters
    ----------
    result : dict
        What :func:`bench_music` returned, with each recording's ``series``.
    path : Path
        The PNG written.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = result["recordings"]
    fps = result["fps"]
    fig, axes = plt.subplots(len(rows), 1, figsize=(12, 2.4 * len(rows)), squeeze=False)
    for ax, row in zip(axes[:, 0], rows, strict=True):
        series = row["series"]
        t = np.arange(len(series["flux"])) / fps
        for key, colour, label in (
            ("flux", "0.55", "spectral flux"),
            ("ganterp", "tab:blue", "ganterp"),
            ("dmv", "tab:orange", "deep-music-visualizer mapping"),
        ):
            v = m.smooth(np.asarray(series[key]), fps=fps)
            scale = float(np.mean(v)) or 1.0
            ax.plot(t, v / scale, color=colour, lw=1.0, label=label)
        for s in row["inflections_s"]:
            ax.axvline(s, color="tab:red", lw=0.6, alpha=0.6)
        g, d = row["ganterp"], row["dmv"]
        ax.set_title(
            f"{row['name']}: follow ρ {g['follow_rho']:.2f} (peer {d['follow_rho']:.2f})",
            fontsize=9,
        )
        ax.set_ylabel("÷ mean")
        ax.set_xlim(0, t[-1] if t.size else 1)
    axes[0, 0].legend(loc="upper right", fontsize=7)
    axes[-1, 0].set_xlabel("time, s (red: the original's inflections, θ 0.01)")
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
