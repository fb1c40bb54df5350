"""A show with NDI out and NDI receivers in other processes, for tests run in a private network.

Run by the NDI tests through ``ganterp.live.bench.netns.private_network``::

    python tests/ndi_show.py --out DIR --audio FILE [--receivers 4:3,9:4] ...

The show runs in this process (headless, keeping every frame it shows) with the
real NDI sink built from its settings; each ``START:SECONDS`` in ``--receivers``
starts ``python -m ganterp.live.bench.ndi_peer`` that many seconds into the show
for that long, in its own process. Everything lands in DIR: ``shown.npz`` (the
frames shown, by presentation time), ``result.json`` (the sink's log and state,
the show's report) and one folder per receiver.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from ganterp.live.core.clock import MonotonicClock
from ganterp.live.display.window import HeadlessDisplay
from ganterp.live.settings.schema import Config
from ganterp.live.show.build import build_show


class KeepShown(HeadlessDisplay):
    """A headless display that keeps every picture it shows."""

    def __init__(self, size: tuple[int, int]) -> None:
        super().__init__(size)
        self.images: list[np.ndarray] = []

    def present(self, frame, hud):
        self.images.append(frame.image)
        super().present(frame, hud)


def _receiver(out: Path, name: str, start_s: float, seconds: float, t0: float, log: list) -> None:
    time.sleep(max(0.0, t0 + start_s - time.monotonic()))
    started = time.time()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "ganterp.live.bench.ndi_peer",
            "--source",
            name,
            "--seconds",
            str(seconds),
            "--out",
            str(out),
            "--keep-every",
            "10",
        ],
        capture_output=True,
        text=True,
        timeout=seconds + 40,
    )
    log.append(
        {
            "dir": str(out),
            "started": started,
            "ended": time.time(),
            "rc": done.returncode,
            "stdout": done.stdout,
            "stderr": done.stderr[-2000:],
        }
    )


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--audio", required=True)
    p.add_argument("--seconds", type=float, default=12.0)
    p.add_argument("--size", default="640x360")
    p.add_argument("--fps", type=float, default=30.0)
    p.add_argument("--pixel-format", default="uyvy")
    p.add_argument("--name", default="ganterp-test")
    p.add_argument("--receivers", default="0:4,7:4")
    args = p.parse_args()
    c = Config()
    config = replace(
        c,
        audio=replace(c.audio, input=args.audio),
        display=replace(c.display, headless=True, fps=args.fps),
        generator=replace(c.generator, resolution=128),
        show=replace(c.show, seconds=args.seconds),
        ndi=replace(
            c.ndi, enabled=True, name=args.name, size=args.size, pixel_format=args.pixel_format
        ),
        control=replace(c.control, osc_port=0),
    )
    display = KeepShown((640, 360))
    show = build_show(config, clock=MonotonicClock(), display=display, trace=True)
    args.out.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    log: list = []
    threads = []
    for k, spec in enumerate(args.receivers.split(",")):
        start_s, seconds = (float(x) for x in spec.split(":"))
        th = threading.Thread(
            target=_receiver,
            args=(args.out / f"receiver{k}", args.name, start_s, seconds, t0, log),
            daemon=True,
        )
        th.start()
        threads.append(th)
    wall_minus_clock = time.time() - show.clock.now()
    report = show.run()
    for th in threads:
        th.join(60)
    ndi = next(s for s in show.sinks if s.name.startswith("NDI"))
    status = ndi.status()
    np.savez_compressed(args.out / "shown.npz", *display.images)
    result = {
        "shown_times": [p.time_s for p in report.trace],
        "sent": list(ndi.output.sent),
        "send_cpu_ms": list(ndi.output.send_cpu_ms),
        "status": {
            "state": status.state,
            "sent": status.sent,
            "dropped": status.dropped,
            "errors": status.errors,
            "error": status.error,
        },
        "wall_minus_clock": wall_minus_clock,
        "display_fps": report.display_fps,
        "seconds": report.seconds,
        "receivers": sorted(log, key=lambda r: r["started"]),
        "size": args.size,
        "fps": args.fps,
    }
    (args.out / "result.json").write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
