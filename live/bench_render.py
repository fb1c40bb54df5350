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

import numpy as np

ORIGINAL_HOP = 128


def make_track(seconds: float, directory: Path) -> Path:
    """The demo track repeated to ``seconds``, as a 44.1 kHz stereo WAV."""
    from live.app import demo_track
    from live.audio.decode import read_all

    demo, sr = read_all(demo_track(), sample_rate=44100)
    reps = int(np.ceil(seconds * sr / demo.shape[0]))
    audio = np.tile(demo, (reps, 1))[: int(seconds * sr)]
    path = directory / f"track-{seconds:g}s.wav"
    import av

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
    """Render ``track`` in a child process; return its report (with its peak RSS)."""
    with tempfile.TemporaryDirectory(prefix="ganterp-render-") as tmp:
        report = Path(tmp) / "report.json"
        cmd = [
            sys.executable,
            "-m",
            "live",
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
    """Time the original's cadence on a slice of ``frames`` frames and scale it to the track."""
    import torch

    from live.bench_biggan import bench_plain_eager

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
