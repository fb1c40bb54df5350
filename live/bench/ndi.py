"""``ganterp bench --only ndi``: what sending NDI costs the show, and what a receiver gets.

Each case is a show in a window on a private X server of the NDI frame's size,
run first without NDI and then with it (a receiver in another process taking
every frame), one after the other in one run. Reported per case: displayed fps
with and without (and their ratio), the sender's CPU milliseconds per frame
(the sink's own thread, and the whole process's extra time over the show
without NDI, the NDI library's compression included), frames received against
frames sent while the receiver listened, and shown-to-received latency.

Everything runs inside a private network namespace (see
:mod:`ganterp.live.bench.netns`), so discovery and the stream never leave the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from ganterp.live.bench.measure import process_cpu_s, stats
from ganterp.live.bench.netns import (
    ndi_loopback_config,
    private_network,
    private_network_available,
)
from ganterp.live.bench.xserver import private_x_server, use_display, xvfb_available
from ganterp.live.core.clock import MonotonicClock
from ganterp.live.settings.layers import load_config
from ganterp.live.settings.schema import Config
from ganterp.live.show.build import build_show

#: The cases: (width, height, display fps, pixel formats), as the targets name them.
CASES: tuple[tuple[int, int, float, tuple[str, ...]], ...] = (
    (1280, 720, 60.0, ("uyvy", "bgrx", "bgra")),
    (1920, 1080, 30.0, ("uyvy", "bgrx")),
)

#: The receiver starts this long after the show and stops this long before its end, seconds.
RECEIVER_MARGIN_S = 1.0


def _show_row(
    config: Config, size: tuple[int, int], fps: float, pixel_format: str, seconds: float, tmp: Path
) -> dict[str, Any]:
    """One show, with NDI in ``pixel_format`` ('' for none) and a receiver when it sends."""
    w, h = size
    ndi_on = bool(pixel_format)
    cfg = replace(
        config,
        display=replace(
            config.display, fullscreen=False, size=f"{w}x{h}", fps=fps, headless=False, hud=False
        ),
        show=replace(config.show, seconds=seconds),
        audio=replace(config.audio, loop=True) if config.audio.input != "mic" else config.audio,
        ndi=replace(
            config.ndi,
            enabled=ndi_on,
            name="ganterp-bench",
            size=f"{w}x{h}",
            pixel_format=pixel_format or "uyvy",
        ),
        control=replace(config.control, osc_port=0),
    )
    show = build_show(cfg, clock=MonotonicClock(), trace=False)
    receiver = None
    out = tmp / f"{w}x{h}-{pixel_format or 'none'}"
    if ndi_on:
        receiver = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "ganterp.live.bench.ndi_peer",
                "--source",
                "ganterp-bench",
                "--seconds",
                str(max(1.0, seconds - 2 * RECEIVER_MARGIN_S)),
                "--out",
                str(out),
                "--keep-every",
                "1000000000",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
    cpu0 = process_cpu_s(os.getpid())
    wall_minus_clock = time.time() - show.clock.now()
    report = show.run()
    cpu1 = process_cpu_s(os.getpid())
    row: dict[str, Any] = {
        "size": f"{w}x{h}",
        "fps_asked": fps,
        "pixel_format": pixel_format or "none",
        "display_fps": report.display_fps,
        "process_cpu_ms_per_frame": 1000.0 * (cpu1 - cpu0) / max(1, report.frames_presented),
        "process_cpu_s": cpu1 - cpu0,
        "frames": report.frames_presented,
    }
    if receiver is None:
        return row
    stdout, stderr = receiver.communicate(timeout=60)
    sink = next(s for s in show.sinks if s.name.startswith("NDI"))
    status = sink.status()
    output = sink.output  # type: ignore[attr-defined]
    row.update(
        sent=status.sent,
        dropped=status.dropped,
        sink_errors=status.errors,
        sink_cpu_ms=stats(list(output.send_cpu_ms)),
    )
    if receiver.returncode != 0:
        row["receiver_error"] = (stderr or stdout).strip().splitlines()[-1:] or ["failed"]
        return row
    got = json.loads((out / "received.json").read_text())
    frames = np.array(got["frames"], dtype=float).reshape(-1, 4)
    sent = np.array(list(output.sent), dtype=float).reshape(-1, 3)
    if len(frames) and len(sent):
        window = (sent[:, 2] >= frames[0, 0] - 1e-3) & (sent[:, 2] <= frames[-1, 0] + 1e-3)
        nearest = np.abs(frames[:, 0][:, None] - sent[:, 2][None, :]).argmin(axis=1)
        latency_ms = 1000.0 * (frames[:, 1] - (sent[nearest, 1] + wall_minus_clock))
        row.update(
            received=len(frames),
            sent_while_listening=int(window.sum()),
            received_share=len(frames) / max(1, int(window.sum())),
            received_size=f"{int(frames[0, 2])}x{int(frames[0, 3])}",
            received_fourcc=got["fourcc"],
            latency_ms=stats(latency_ms.tolist()),
        )
    return row


def run_cases(
    config: Config,
    *,
    seconds: float,
    cases: Sequence[tuple[int, int, float, Sequence[str]]] = CASES,
) -> dict[str, Any]:
    """Every case without and with NDI, in this process (call inside a private network).

    Returns
    -------
    dict
        ``rows``: per case a row without NDI then one per pixel format, each with
        ``fps_ratio`` (displayed fps over the row without NDI) and
        ``extra_cpu_ms_per_sent_frame`` (process CPU over the row without NDI, per
        frame sent).
    """
    rows = []
    with tempfile.TemporaryDirectory(prefix="ganterp-ndi-") as tmp:
        for w, h, fps, formats in cases:
            with private_x_server((w, h)) as server, use_display(server.name):
                base = _show_row(config, (w, h), fps, "", seconds, Path(tmp))
                rows.append(base)
                for pixel_format in formats:
                    row = _show_row(config, (w, h), fps, pixel_format, seconds, Path(tmp))
                    row["fps_ratio"] = row["display_fps"] / max(1e-9, base["display_fps"])
                    extra = row["process_cpu_s"] - base["process_cpu_s"]
                    row["extra_cpu_ms_per_sent_frame"] = 1000.0 * extra / max(1, row.get("sent", 0))
                    rows.append(row)
    return {"rows": rows, "seconds": seconds}


def bench_ndi(config: Config, seconds: float = 8.0) -> dict[str, Any]:
    """Run :func:`run_cases` in a child process inside a private network namespace.

    Returns
    -------
    dict
        Its result, or ``skipped`` with the reason (no ``cyndilib``, no Xvfb, no
        network namespace).
    """
    try:
        import cyndilib  # noqa: F401
    except ImportError:
        return {"skipped": "the ndi extra is not installed (pip install 'ganterp[ndi]')"}
    if not xvfb_available():
        return {"skipped": "Xvfb is not installed (Debian package xvfb)"}
    why = private_network_available()
    if why:
        return {"skipped": why}
    with tempfile.TemporaryDirectory(prefix="ganterp-ndi-bench-") as tmp:
        settings = Path(tmp) / "config.json"
        settings.write_text(json.dumps({"input": config.audio.input, "seconds": seconds}))
        result = Path(tmp) / "result.json"
        env = dict(os.environ, NDI_CONFIG_DIR=str(ndi_loopback_config(Path(tmp) / "ndi")))
        argv = [sys.executable, "-m", "ganterp.live.bench.ndi", str(settings), str(result)]
        timeout = 60 + sum(len(f) + 1 for *_, f in CASES) * (seconds + 10)
        done = subprocess.run(
            private_network(argv), env=env, capture_output=True, text=True, timeout=timeout
        )
        if done.returncode != 0 or not result.exists():
            last = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
            return {"skipped": f"the NDI bench failed: {last[0]}"}
        return json.loads(result.read_text())


def main(argv: list[str] | None = None) -> int:
    """The child: ``python -m ganterp.live.bench.ndi SETTINGS.json RESULT.json``."""
    p = argparse.ArgumentParser(prog="ganterp-ndi-bench")
    p.add_argument("settings", type=Path)
    p.add_argument("result", type=Path)
    args = p.parse_args(argv)
    asked = json.loads(args.settings.read_text())
    config = load_config()
    config = replace(config, audio=replace(config.audio, input=asked["input"]))
    args.result.write_text(json.dumps(run_cases(config, seconds=float(asked["seconds"]))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
