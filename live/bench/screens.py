"""``ganterp bench --only screens``: the full-screen show at projector sizes, GPU and CPU drawn.

Each size gets an X server of its own (Xvfb, so OpenGL is Mesa's software
renderer there: a machine with a GPU only does better). On it the same show runs
full screen, drawn through OpenGL and by the CPU, with the HUD off and on, and
with a 1080p recording beside it, one after the other in one run.

CPU time per displayed frame is that of the display loop's thread plus the GL
rasteriser's threads (Mesa's ``llvmpipe-N``), read from ``/proc``; the X server's
own time (it receives every frame of a software renderer) is given apart.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from ganterp.live.bench.measure import process_cpu_s, stats, thread_cpu_s
from ganterp.live.bench.xserver import XServer, private_x_server, use_display, xvfb_available
from ganterp.live.core.clock import MonotonicClock
from ganterp.live.settings.schema import Config
from ganterp.live.show.build import build_show

#: The screens measured, ``(width, height)``: a 720p window's, 1080p and 4K projectors'.
SCREEN_SIZES: tuple[tuple[int, int], ...] = ((1280, 720), (1920, 1080), (3840, 2160))

#: The recording run beside the show in the "recording" rows.
RECORD_SIZE = "1920x1080"
RECORD_FPS = 30.0

#: Thread names that draw for the display besides the show's own loop (Mesa's rasteriser).
DRAWING_THREADS = ("llvmpipe", "softpipe", "lp_")


def _display_cpu_s(threads: dict[int, tuple[str, float]], main: int) -> float:
    """CPU seconds of the display loop's thread and the GL rasteriser's threads."""
    return sum(
        seconds
        for tid, (name, seconds) in threads.items()
        if tid == main or name.startswith(DRAWING_THREADS)
    )


def screen_row(
    config: Config,
    server: XServer,
    *,
    renderer: str,
    hud: bool,
    record: bool,
    seconds: float,
) -> dict[str, Any]:
    """One full-screen show on ``server``, measured.

    Parameters
    ----------
    config : Config
        The show's settings (a file input is looped).
    server : XServer
        The X server to show it on (full screen: the window takes its screen's size).
    renderer : str
        ``"gpu"`` (OpenGL) or ``"cpu"`` (the CPU fallback).
    hud : bool
        Show the HUD.
    record : bool
        Record the show beside it at :data:`RECORD_SIZE`, :data:`RECORD_FPS`.
    seconds : float
        Length of the show, seconds.

    Returns
    -------
    dict
        ``screen`` (WxH), ``renderer`` (asked) and ``drawn_by`` (the GL renderer's name,
        or the CPU), ``hud``, ``record``, ``display_fps``, ``frame_interval_ms``
        (statistics), ``keyframes_per_s``, ``display_cpu_ms_per_frame`` and
        ``x_server_cpu_ms_per_frame`` (CPU ms per displayed frame), and for a
        recording its ``recorded_frames``, ``repeated`` and ``dropped`` frames.
    """
    w, h = server.size
    cfg = replace(
        config,
        show=replace(config.show, seconds=seconds),
        display=replace(
            config.display, fullscreen=True, renderer=renderer, hud=hud, headless=False
        ),
        audio=replace(config.audio, loop=True) if config.audio.input != "mic" else config.audio,
    )
    if record:
        cfg = replace(cfg, record=replace(cfg.record, video_size=RECORD_SIZE, fps=RECORD_FPS))
    with tempfile.TemporaryDirectory(prefix="ganterp-screens-") as tmp, use_display(server.name):
        show = build_show(
            cfg,
            clock=MonotonicClock(),
            trace=True,
            record_path=Path(tmp) / "show.mp4" if record else None,
        )
        drawn_by = str(getattr(show.display, "renderer", "") or "CPU (SDL surface)")
        main = os.getpid()  # the display loop runs on this, the main, thread
        display = show.display
        close = display.close
        at_close: list[dict[int, tuple[str, float]]] = []

        def read_then_close() -> None:  # the rasteriser's threads end with the window
            at_close.append(thread_cpu_s())
            close()

        display.close = read_then_close  # type: ignore[method-assign,unused-ignore]
        threads0, x0 = thread_cpu_s(), process_cpu_s(server.pid)
        report = show.run()
        threads1, x1 = at_close[0] if at_close else thread_cpu_s(), process_cpu_s(server.pid)
    frames = max(1, report.frames_presented)
    times = np.array([p.time_s for p in report.trace])
    row: dict[str, Any] = {
        "screen": f"{w}x{h}",
        "renderer": renderer,
        "drawn_by": drawn_by,
        "hud": hud,
        "record": RECORD_SIZE if record else "",
        "display_fps": report.display_fps,
        "frame_interval_ms": stats((np.diff(times) * 1000.0).tolist()),
        "keyframes_per_s": report.keyframes_per_s,
        "display_cpu_ms_per_frame": 1000.0
        * (_display_cpu_s(threads1, main) - _display_cpu_s(threads0, main))
        / frames,
        "x_server_cpu_ms_per_frame": 1000.0 * (x1 - x0) / frames,
    }
    if report.recording is not None:
        row["recorded_frames"] = report.recording.frames
        row["repeated"] = report.recording.repeated
        row["dropped"] = report.recording.dropped
    return row


def bench_screens(
    config: Config,
    *,
    seconds: float = 8.0,
    sizes: Sequence[tuple[int, int]] = SCREEN_SIZES,
    renderers: Sequence[str] = ("gpu", "cpu"),
) -> dict[str, Any]:
    """Every size × renderer × HUD off/on, then each size and renderer with a recording.

    Parameters
    ----------
    config : Config
        The show's settings.
    seconds : float
        Length of each show, seconds.
    sizes : sequence of (int, int)
        Screen sizes, pixels.
    renderers : sequence of str
        ``"gpu"`` and/or ``"cpu"``.

    Returns
    -------
    dict
        ``rows`` (each from :func:`screen_row`), or ``skipped`` with the reason when
        Xvfb is not installed.
    """
    if not xvfb_available():
        return {"skipped": "Xvfb is not installed (Debian package xvfb)", "rows": []}
    rows = []
    for size in sizes:
        with private_x_server(size) as server:
            for renderer in renderers:
                for hud, record in ((False, False), (True, False), (True, True)):
                    rows.append(
                        screen_row(
                            config,
                            server,
                            renderer=renderer,
                            hud=hud,
                            record=record,
                            seconds=seconds,
                        )
                    )
    return {"rows": rows, "seconds": seconds}
