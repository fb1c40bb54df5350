"""``ganterp render``: a file's video, made by the show's parts on the file's clock.

Two streaming passes over the audio keep memory bounded whatever the length:
the first counts the samples and, for the ``seed`` analysis, computes the
original's spectral change (a few floats per 128 samples); the second drives
the frames: the seed motion, or the show's analyser and trajectory. The
generator is called with batches of frames; beside it, a thread scales each
batch to the video's size with FFmpeg's scaler and encodes it, muxing the input's
sound under each frame as it goes.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812 (the usual name)

from ganterp.live.analysis.analyzer import Analyzer
from ganterp.live.analysis.inflection import (
    SEED_SMOOTHING,
    Inflection,
    running_mean_prepended,
    seed_inflections,
)
from ganterp.live.analysis.spectral import SpectralChangeStream
from ganterp.live.audio.channels import to_mono
from ganterp.live.audio.decode import AudioDecoder
from ganterp.live.core.errors import AudioFileError
from ganterp.live.offline.encode_thread import BackgroundEncoder
from ganterp.live.offline.file_analysis import SEED_HOP, SEED_NFFT
from ganterp.live.offline.plan import FrameInputs, from_target, seed_frames
from ganterp.live.offline.writer import VideoWriter
from ganterp.live.settings.schema import X264_DEFAULT, Config
from ganterp.live.trajectory import Trajectory, category_bank
from ganterp.models.base import Generator

_BLOCK = 8192

ProgressFn = Callable[[int, int], None]
"""Called as ``progress(frames done, frames in all)``."""


@dataclass
class RenderReport:
    """What a render made."""

    path: Path
    frames: int
    fps: float
    duration_s: float
    analysis: str
    inflections_s: list[float]
    generator: str
    generator_calls: int
    generate_s: float
    wall_s: float

    @property
    def realtime_factor(self) -> float:
        """Audio seconds rendered per wall-clock second."""
        return self.duration_s / self.wall_s if self.wall_s > 0 else 0.0

    def to_json(self) -> dict[str, object]:
        """Plain data for ``--report``."""
        return {
            "path": str(self.path),
            "frames": self.frames,
            "fps": self.fps,
            "duration_s": self.duration_s,
            "analysis": self.analysis,
            "inflections_s": self.inflections_s,
            "generator": self.generator,
            "generator_calls": self.generator_calls,
            "generate_s": self.generate_s,
            "wall_s": self.wall_s,
            "realtime_factor": self.realtime_factor,
        }


@dataclass
class SeedCurve:
    """The original's analysis of a whole file, computed in one streaming pass."""

    samples: int
    sample_rate: int
    curve: np.ndarray
    points: np.ndarray


def first_pass(audio: Path, *, channel: str, threshold: float, absolute: float) -> SeedCurve:
    """Count the samples and compute the original's curve and inflection columns.

    Raises
    ------
    AudioFileError
        Broken, truncated or empty input.
    """
    with AudioDecoder(audio) as decoder:
        stream = SpectralChangeStream(sample_rate=decoder.sample_rate, nfft=SEED_NFFT, hop=SEED_HOP)
        parts = []
        samples = 0
        for block in decoder:
            x = to_mono(block, channel)
            samples += x.shape[0]
            parts.append(stream.push(x))
        rate = decoder.sample_rate
    if samples == 0:
        raise AudioFileError(f"{audio}: holds no audio samples")
    change = np.concatenate(parts) if parts else np.zeros(0)
    peak = float(change.max()) if change.size else 0.0
    if peak > 0:
        change = change / peak
    curve = running_mean_prepended(change, SEED_SMOOTHING) if change.size else np.zeros(1)
    points = seed_inflections(curve, threshold=threshold, absolute_threshold=absolute)
    return SeedCurve(samples, rate, curve, points)


def live_frames(
    audio: Path,
    config: Config,
    *,
    channel: str,
    fps: float,
    n_frames: int,
    categories: list[int],
    z_dim: int,
    num_classes: int,
    inflections: list[float],
) -> Iterator[FrameInputs]:
    """The show's analysis and trajectory on the file's clock: inputs for each frame.

    Inflection times found are appended to ``inflections`` as they are decided.
    """
    with AudioDecoder(audio) as decoder:
        sr = decoder.sample_rate
        analyzer = Analyzer(sr, config.analysis, config.inflection)
        trajectory = Trajectory(
            config.trajectory, z_dim=z_dim, num_classes=num_classes, categories=categories
        )
        fed = 0
        for k in range(n_frames):
            until = round(k / fps * sr)
            features, events = [], []
            while fed < until:
                block = decoder.read(min(_BLOCK, until - fed))
                if block.shape[0] == 0:
                    break
                f, e = analyzer.process(to_mono(block, channel), fed)
                features.extend(f)
                events.extend(e)
                fed += block.shape[0]
            inflections.extend(e.time_s for e in events if isinstance(e, Inflection))
            yield from_target(trajectory.step(features, events))


def to_pixels(images: torch.Tensor) -> np.ndarray:
    """Generator output as RGB bytes.

    Parameters
    ----------
    images : torch.Tensor, shape (B, 3, r, r)
        Values in [-1, 1] (NaN reads as -1, the rest is clipped).

    Returns
    -------
    np.ndarray, shape (B, r, r, 3), uint8
    """
    x = torch.nan_to_num(images.float(), nan=-1.0).clamp(-1.0, 1.0)
    return ((x + 1.0) * 127.5).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()


def fit_batch(images: torch.Tensor, size: tuple[int, int]) -> np.ndarray:
    """Scale generator output to ``size`` (width, height) with its aspect kept; black bars.

    Parameters
    ----------
    images : torch.Tensor, shape (B, 3, r, r)
        Values in [-1, 1].
    size : (int, int)
        Output width and height in pixels.

    Returns
    -------
    np.ndarray, shape (B, height, width, 3), uint8
    """
    width, height = size
    side = min(width, height)
    if images.shape[-1] != side:
        x = torch.nan_to_num(images.float(), nan=-1.0).clamp(-1.0, 1.0)
        images = F.interpolate(x, size=(side, side), mode="bicubic", align_corners=False)
    pixels = to_pixels(images)
    if (width, height) == (side, side):
        return pixels
    out = np.zeros((pixels.shape[0], height, width, 3), dtype=np.uint8)
    top, left = (height - side) // 2, (width - side) // 2
    out[:, top : top + side, left : left + side] = pixels
    return out


def encoder_threads(generator_threads: int) -> int:
    """Encoder threads for a render: the cores the generator leaves, at least one.

    Measured on 2 cores with a 1-thread generator, a 720p render runs at 0.77-0.83x
    real time with one encoder thread against 0.63-0.73x with x264's own choice
    (which oversubscribes the cores).

    Parameters
    ----------
    generator_threads : int
        CPU threads the generator uses.

    Returns
    -------
    int
    """
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not every platform says which cores it may use
        cores = os.cpu_count() or 1
    return max(1, cores - generator_threads)


def render_file(
    audio: Path,
    out: Path,
    config: Config,
    *,
    generator: Generator,
    fps: float = 30.0,
    size: tuple[int, int] | None = None,
    analysis: str = "live",
    channel: str = "mix",
    batch: int = 8,
    categories: list[int] | None = None,
    progress: ProgressFn | None = None,
    preset: str = X264_DEFAULT,
) -> RenderReport:
    """Render ``audio`` into a video at ``out``.

    Parameters
    ----------
    audio : Path
        The sound (any format the decoder reads).
    out : Path
        ``.mp4`` (H.264 + AAC) or ``.avi`` (MJPG + PCM).
    config : Config
        Analysis, inflection and trajectory settings.
    generator : Generator
        What paints.
    fps : float
        Video frame rate.
    size : (int, int), optional
        Output width and height; default the generator's resolution.
    analysis : str
        ``"seed"`` (the original's) or ``"live"`` (the show's).
    channel : str
        ``"mix"``, ``"left"`` or ``"right"``.
    batch : int
        Frames per generator call.
    categories : list of int, optional
        One per segment; default the trajectory's bank.
    progress : callable, optional
        See :data:`ProgressFn` (counts frames painted; the last are written
        just after).
    preset : str
        H.264 encoding speed (see :data:`ganterp.live.settings.schema.X264_PRESETS`).

    Raises
    ------
    AudioFileError, RecordError
        One line each. An interruption (KeyboardInterrupt) or a failure leaves
        a playable ``NAME.partial.mp4`` (an AVI is deleted), never a file under
        the final name; the exception is raised again.
    """
    if analysis not in ("seed", "live"):
        raise ValueError(f"analysis must be 'seed' or 'live', not '{analysis}'")
    t_start = time.perf_counter()
    inflection = config.inflection
    seed = first_pass(
        audio,
        channel=channel,
        threshold=inflection.threshold,
        absolute=inflection.absolute_threshold,
    )
    duration = seed.samples / seed.sample_rate
    n_frames = max(1, round(duration * fps))
    cats = categories or category_bank(
        config.trajectory.seed, config.trajectory.bank_size, generator.num_classes
    )
    inflections: list[float] = []
    if analysis == "seed":
        inflections = [float(c) * SEED_HOP / seed.sample_rate for c in seed.points[1:-1]]
        frames = seed_frames(
            seed.curve,
            seed.points,
            sample_rate=seed.sample_rate,
            hop=SEED_HOP,
            fps=fps,
            n_frames=n_frames,
            categories=cats,
            num_classes=generator.num_classes,
            z_dim=generator.z_dim,
            truncation=config.trajectory.truncation,
            seed=config.trajectory.seed,
        )
    else:
        frames = live_frames(
            audio,
            config,
            channel=channel,
            fps=fps,
            n_frames=n_frames,
            categories=cats,
            z_dim=generator.z_dim,
            num_classes=generator.num_classes,
            inflections=inflections,
        )
    out_size = size or (generator.resolution, generator.resolution)
    writer = VideoWriter(
        out,
        fps=fps,
        size=out_size,
        audio=audio,
        preset=preset,
        threads=encoder_threads(config.generator.threads),
    )
    calls, generate_s, done = 0, 0.0, 0
    encoder: BackgroundEncoder | None = None
    try:
        encoder = BackgroundEncoder(writer)
        while done < n_frames:
            chunk = [inputs for _, inputs in zip(range(batch), frames, strict=False)]
            if not chunk:
                break
            for group in _same_truncation(chunk):
                z = torch.from_numpy(np.stack([f.z for f in group]))
                y = torch.from_numpy(np.stack([f.y for f in group]))
                t0 = time.perf_counter()
                with torch.inference_mode():
                    images = generator(z, y, group[0].truncation)
                generate_s += time.perf_counter() - t0
                calls += 1
                encoder.submit(to_pixels(images))
            done += len(chunk)
            if progress is not None:
                progress(done, n_frames)
        encoder.finish()
    except BaseException:
        try:
            if encoder is not None:
                encoder.stop()
        finally:
            writer.abort()
        raise
    path = writer.close()
    return RenderReport(
        path=path,
        frames=writer.frames,
        fps=fps,
        duration_s=duration,
        analysis=analysis,
        inflections_s=inflections,
        generator=generator.status,
        generator_calls=calls,
        generate_s=generate_s,
        wall_s=time.perf_counter() - t_start,
    )


def _same_truncation(chunk: list[FrameInputs]) -> list[list[FrameInputs]]:
    groups: list[list[FrameInputs]] = []
    for inputs in chunk:
        if groups and groups[-1][0].truncation == inputs.truncation:
            groups[-1].append(inputs)
        else:
            groups.append([inputs])
    return groups
