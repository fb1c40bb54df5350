"""``ganterp bench --only render``: offline rendering speed, cadence and memory.

Each render runs as its own ``ganterp render`` process, so its peak resident
memory is its own. The original's cadence (one BigGAN call per spectrogram
column, fs/128 frames per audio second, the package's eager fp32 model at batch
1) is timed on a slice and scaled to the track, in the same run.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import av
import numpy as np
import torch

from ganterp.live.audio.decode import read_all
from ganterp.live.bench.biggan import bench_plain_eager, resolve_bench_weights
from ganterp.live.show.build import demo_track

#: Audio samples per frame in the original (one BigGAN call per spectrogram column).
ORIGINAL_HOP = 128


def make_track(seconds: float, directory: Path) -> Path:
    """The demo track repeated to ``seconds``, as a 44.1 kHz stereo WAV.

    Parameters
    ----------
    seconds : float
        Length of the track, seconds.
    directory : Path
        Where it is written (as ``track-<seconds>s.wav``).

    Returns
    -------
    Path
        The file.
    """
    demo, sr = read_all(demo_track(), sample_rate=44100)
    reps = int(np.ceil(seconds * sr / demo.shape[0]))
    audio = np.tile(demo, (reps, 1))[: int(seconds * sr)]
    path = directory / f"track-{seconds:g}s.wav"
    with av.open(str(path), "w", format="wav") as c:
        stream = c.add_stream("pcm_s16le", rate=sr, layout="stereo")
        for start in range(0, audio.shape[0], 8192):
            block = (np.clip(audio[start : start + 8192], -1, 1) * 32767).astype(np.int16)
            frame = av.AudioFrame.from_ndarray(block.reshape(1, -1), format="s16", layout="stereo")
            frame.sample_rate = sr
            for packet in stream.encode(frame):
                c.mux(packet)
        for packet in stream.encode(None):
            c.mux(packet)
    return path


def run_render(track: Path, generator: str, *, weights: str, extra: list[str]) -> dict[str, Any]:
    """Render ``track`` in a child ``ganterp render`` process.

    Parameters
    ----------
    track : Path
        The audio file.
    generator : str
        Generator name.
    weights : str
        BigGAN model directory (ignored for cppn; empty: the default).
    extra : list of str
        More ``ganterp render`` flags.

    Returns
    -------
    dict
        The render's JSON report, with the child's own ``peak_rss_mb`` (MiB).

    Raises
    ------
    RuntimeError
        When the render fails (with the last line of its stderr).
    """
    with tempfile.TemporaryDirectory(prefix="ganterp-render-") as tmp:
        report = Path(tmp) / "report.json"
        cmd = [
            sys.executable,
            "-m",
            "ganterp.live",
            "render",
            str(track),
            "-o",
            str(Path(tmp) / "v.mp4"),
            "--generator",
            generator,
            "--report",
            str(report),
            *extra,
        ]
        if generator != "cppn" and weights:
            cmd += ["--weights", weights]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"render failed: {proc.stderr.strip().splitlines()[-1:]}")
        return json.loads(report.read_text())  # holds the child's own peak RSS


def original_cadence(
    weights_dir: Path, *, seconds: float, sample_rate: int, threads: int, frames: int = 10
) -> dict[str, Any]:
    """Time the original's cadence on a slice of ``frames`` frames and scale it to the track.

    Parameters
    ----------
    weights_dir : Path
        BigGAN model directory.
    seconds : float
        Length of the track, seconds.
    sample_rate : int
        The original's audio rate, Hz (one frame per :data:`ORIGINAL_HOP` samples).
    threads : int
        CPU threads.
    frames : int
        Frames timed.

    Returns
    -------
    dict
        ``frames_per_audio_s``, ``frames`` (for the whole track), ``ms_per_frame``
        (statistics, ms), ``generator_s`` (seconds for the whole track) and
        ``timed_frames``.
    """
    row = bench_plain_eager(weights_dir, device=torch.device("cpu"), threads=threads, calls=frames)
    per_frame_s = row["ms_per_frame"]["median"] / 1000.0
    n = seconds * sample_rate / ORIGINAL_HOP
    return {
        "frames_per_audio_s": sample_rate / ORIGINAL_HOP,
        "frames": n,
        "ms_per_frame": row["ms_per_frame"],
        "generator_s": n * per_frame_s,
        "timed_frames": frames,
    }


def bench_renders(
    generators: list[str],
    *,
    seconds: float,
    long_seconds: float,
    size_seconds: float = 0.0,
    weights: str,
    biggan_dirs: dict[str, str],
    backend: str,
    precision: str,
    device: str,
    threads: int,
    workdir: Path,
) -> dict[str, Any]:
    """Render a track with each generator (own processes), and a long one with cppn.

    Parameters
    ----------
    generators : list of str
        Generator names; cppn renders at 256 px, BigGAN-deep at its own size, each
        into a video of its picture's own square size.
    seconds : float
        Length of the track rendered with each generator, seconds.
    long_seconds : float
        Length of the long track rendered with cppn, seconds.
    size_seconds : float
        Length of the track rendered at each of :data:`RENDER_SIZES`, seconds (0: none).
    weights : str
        As :func:`resolve_bench_weights` takes it, for models missing from ``biggan_dirs``.
    biggan_dirs : dict of str to str
        Model directories already resolved, by model name.
    backend, precision, device : str
        The BigGAN renders' ``--backend``, ``--precision`` and ``--generator-device``.
    threads : int
        Generator CPU threads.
    workdir : Path
        Where the tracks (and any random weights) are written.

    Returns
    -------
    dict
        ``track_s``, ``rows`` (each render's report with ``generator_name``,
        ``calls_per_audio_s`` and ``frames_per_audio_s``; for BigGAN also ``original``
        and ``generator_time_ratio``) and ``long`` (the long render's report).
    """
    track = make_track(seconds, workdir)
    rows = []
    for name in generators:
        extra = ["--analysis", "live"]
        model_dir = ""
        if name == "cppn":
            extra += ["--resolution", "256", "--size", "256x256"]
            extra += ["--set", f"generator.threads={threads}"]
        else:
            model_dir = biggan_dirs.get(name) or str(
                resolve_bench_weights(name, weights, workdir)[0]
            )
            extra += [
                "--backend",
                backend,
                "--precision",
                precision,
                "--generator-device",
                device,
                "--size",
                "{0}x{0}".format(name.rsplit("-", 1)[-1]),
                "--set",
                f"generator.threads={threads}",
            ]
        row = run_render(track, name, weights=model_dir, extra=extra)
        row["generator_name"] = name
        row["calls_per_audio_s"] = row["generator_calls"] / row["duration_s"]
        row["frames_per_audio_s"] = row["frames"] / row["duration_s"]
        if name != "cppn":
            original = original_cadence(
                Path(model_dir), seconds=row["duration_s"], sample_rate=44100, threads=threads
            )
            row["original"] = original
            row["generator_time_ratio"] = row["generate_s"] / original["generator_s"]
        rows.append(row)
    long_track = make_track(long_seconds, workdir)
    long = run_render(
        long_track, "cppn", weights="", extra=["--analysis", "live", "--resolution", "256"]
    )
    sizes = bench_render_sizes(
        make_track(size_seconds, workdir) if size_seconds > 0 else None, threads=threads
    )
    return {"track_s": seconds, "rows": rows, "long": long, "sizes": sizes}


#: Video sizes and H.264 presets the size rows render cppn's 256 px picture at.
RENDER_SIZES = (
    ("256x256", "veryfast"),
    ("1280x720", "veryfast"),
    ("1920x1080", "veryfast"),
    ("1920x1080", "ultrafast"),
)


def bench_render_sizes(track: Path | None, *, threads: int) -> list[dict[str, Any]]:
    """Render one track with cppn at 256 px into each of :data:`RENDER_SIZES`.

    Parameters
    ----------
    track : Path or None
        The audio file; None renders nothing.
    threads : int
        Generator CPU threads.

    Returns
    -------
    list of dict
        Each render's JSON report with ``size`` and ``preset`` added.
    """
    rows = []
    for size, preset in RENDER_SIZES if track is not None else ():
        extra = ["--analysis", "live", "--resolution", "256", "--size", size]
        extra += ["--x264-preset", preset, "--set", f"generator.threads={threads}"]
        row = run_render(track, "cppn", weights="", extra=extra)
        rows.append({**row, "size": size, "preset": preset})
    return rows
