"""Whole shows in ``ganterp bench``: frame pacing, display capacity and onset latency.

Each run builds the show from its settings, exactly as ``ganterp live`` does, and
shows it in a real pygame window when a display exists, else through pygame's
off-screen driver (the same scaling and blits, no screen).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import av
import numpy as np

from ganterp.live.analysis.features import Onset
from ganterp.live.bench.measure import peak_rss_mb, stats
from ganterp.live.core.clock import MonotonicClock
from ganterp.live.display.window import PygameWindow, parse_size
from ganterp.live.settings.schema import Config
from ganterp.live.show.build import build_show, display_available
from ganterp.live.show.report import ShowReport
from ganterp.live.show.show import Show


def _display(size: tuple[int, int]) -> tuple[PygameWindow, str]:
    """A real pygame window when a display exists, else pygame's off-screen driver."""
    kind = "window"
    if not display_available():
        os.environ["SDL_VIDEODRIVER"] = "dummy"
        kind = "offscreen (SDL dummy driver: same scaling and blits, no screen)"
    return PygameWindow(fullscreen=False, size=size), kind


def run_show(
    config: Config, *, trace: bool = False, on_start: Callable[[Show], None] | None = None
) -> tuple[Show, ShowReport, str]:
    """Run a show with the bench's display, on the wall clock.

    Parameters
    ----------
    config : Config
        The show's settings; its display size is the window's.
    trace : bool
        Keep a record of every presented frame in the report.
    on_start : callable, optional
        ``on_start(show)`` is called once the show is built, just before it runs
        (to start a load generator beside it).

    Returns
    -------
    Show, ShowReport, str
        The show (after it ran), its report, and the kind of display it used.
    """
    display, kind = _display(parse_size(config.display.size))
    show = build_show(config, clock=MonotonicClock(), display=display, trace=trace)
    if on_start is not None:
        on_start(show)
    report = show.run()
    return show, report, kind


def bench_show(config: Config, seconds: float) -> dict[str, Any]:
    """A whole show through the real pipeline at the configured display size.

    Parameters
    ----------
    config : Config
        The show's settings (a file input is looped).
    seconds : float
        Length of the show, seconds.

    Returns
    -------
    dict
        The display's rate (frames/s), the frame intervals (statistics, ms) and late
        frames, keyframes per second, generator time (ms), the analysis's load,
        overflow, drop and error counts, and the process's ``peak_rss_mb`` (MiB).
    """
    cfg = replace(config, show=replace(config.show, seconds=seconds))
    if cfg.audio.input != "mic":
        cfg = replace(cfg, audio=replace(cfg.audio, loop=True))
    _, r, kind = run_show(cfg, trace=True)
    times = np.array([p.time_s for p in r.trace])
    intervals = np.diff(times) * 1000.0
    period_ms = 1000.0 / cfg.display.fps
    return {
        "input": cfg.audio.input,
        "seconds": r.seconds,
        "display": kind,
        "display_size": cfg.display.size,
        "display_fps": r.display_fps,
        "frame_interval_ms": stats(intervals.tolist()),
        "late_frames": int(np.sum(intervals > 1.5 * period_ms)),
        "keyframes_per_s": r.keyframes_per_s,
        "generate_ms": {"median": r.generate_ms_median, "p95": r.generate_ms_p95},
        "resolution": cfg.generator.resolution,
        "generator": r.generator,
        "analysis_load": r.analysis_load,
        "audio_overflows": r.overflows,
        "analysis_ring_drops": r.ring_dropped,
        "generator_errors": r.generator_errors,
        "peak_rss_mb": peak_rss_mb(),
    }


def bench_display_capacity(config: Config, seconds: float = 8.0) -> dict[str, Any]:
    """The same show with the display unpaced: how many frames a second it could show.

    Parameters
    ----------
    config : Config
        The show's settings (its display rate is raised to 360 fps).
    seconds : float
        Length of the run, seconds.

    Returns
    -------
    dict
        ``display`` (kind), ``display_size``, ``frames_per_s`` and ``keyframes_per_s``.
    """
    cfg = replace(
        config,
        show=replace(config.show, seconds=seconds),
        display=replace(config.display, fps=360.0),
        audio=replace(config.audio, loop=True) if config.audio.input != "mic" else config.audio,
    )
    _, r, kind = run_show(cfg)
    return {
        "display": kind,
        "display_size": cfg.display.size,
        "frames_per_s": r.display_fps,
        "keyframes_per_s": r.keyframes_per_s,
    }


def click_track(
    seconds: float, sample_rate: int, period_s: float = 0.75
) -> tuple[np.ndarray, list[int]]:
    """Clicks (5 ms decaying noise bursts) over a -60 dBFS noise floor.

    Parameters
    ----------
    seconds : float
        Length of the track, seconds.
    sample_rate : int
        Its rate, Hz.
    period_s : float
        Time between clicks, seconds; the first is at 1 s, none in the last 0.5 s.

    Returns
    -------
    audio : np.ndarray, shape (n,), float32
        ``n = int(seconds * sample_rate)`` samples in [-1, 1].
    clicks : list of int
        Sample index of each click.
    """
    rng = np.random.default_rng(7)
    n = int(seconds * sample_rate)
    audio = (rng.standard_normal(n) * 1e-3).astype(np.float32)
    burst = int(0.005 * sample_rate)
    env = np.exp(-np.arange(burst) / (burst / 4))
    clicks = []
    t = 1.0
    while t < seconds - 0.5:
        i = int(t * sample_rate)
        audio[i : i + burst] += (rng.standard_normal(burst) * 0.5 * env).astype(np.float32)
        clicks.append(i)
        t += period_s
    return audio, clicks


def bench_latency(config: Config, seconds: float) -> dict[str, Any]:
    """Onset in the input → first displayed frame showing it, through the real pipeline.

    Parameters
    ----------
    config : Config
        The show's settings (its input is replaced by a click track).
    seconds : float
        Length of the click track, seconds.

    Returns
    -------
    dict
        Click, detection and false-onset counts, ``latency_ms`` (statistics, ms, from
        the arrival of the audio block holding a click to the flip of the first
        frame showing it), the display's rate and keyframes per second.
    """
    sr = 48000
    audio, clicks = click_track(seconds, sr)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "clicks.wav"
        with av.open(str(path), "w") as out:
            stream = out.add_stream("pcm_s16le", rate=sr)
            stream.layout = "mono"
            pcm = (np.clip(audio, -1, 1) * 32767).astype(np.int16)[np.newaxis]
            frame = av.AudioFrame.from_ndarray(pcm, format="s16", layout="mono")
            frame.sample_rate = sr
            for packet in stream.encode(frame):
                out.mux(packet)
            for packet in stream.encode(None):
                out.mux(packet)
        cfg = replace(
            config,
            audio=replace(config.audio, input=str(path), loop=False),
            show=replace(config.show, seconds=0.0),
        )
        show, report, kind = run_show(cfg, trace=True)
    ring = show.source.ring
    block = cfg.audio.blocksize
    events = show.events
    assert events is not None  # a traced show queues its analysis events
    onsets = [e for e in events.drain() if isinstance(e, Onset)]
    latencies = []
    missed = 0
    for click in clicks:
        # The onset event that belongs to this click (aubio's time estimate near it).
        match = [j for j, e in enumerate(onsets) if -0.03 <= e.time_s - click / sr <= 0.06]
        if not match:
            missed += 1
            continue
        count = match[0] + 1
        block_end = (click // block + 1) * block
        arrived = ring.frame_time(block_end)
        shown = next((p.time_s for p in report.trace if p.onsets >= count and p.weight > 0), None)
        if shown is not None:
            latencies.append(1000 * (shown - arrived))
    return {
        "display": kind,
        "clicks": len(clicks),
        "detected": len(clicks) - missed,
        "false_onsets": max(0, len(onsets) - (len(clicks) - missed)),
        "latency_ms": stats(latencies),
        "display_fps": report.display_fps,
        "keyframes_per_s": report.keyframes_per_s,
        "measured_from": "arrival of the audio block holding the click (block end)",
        "measured_to": "flip of the first frame whose newest keyframe was made after the onset",
    }
