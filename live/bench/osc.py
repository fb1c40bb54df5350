"""``ganterp bench --only osc``: OSC command latency, and the show under a flood of bad packets.

Latency: a category jump is sent over UDP to a running show; it counts until the
first presented frame whose keyframe was painted towards the new category (the
start of the morph to it).
The target is one display frame plus one keyframe. The gaps between commands
are jittered by up to 50 ms so that they land at every phase of the display's
and the generator's cycles, not at one phase again and again.

Flood: random and malformed datagrams are sent as fast as one loopback socket
allows while a show runs; its display rate is compared with a quiet run of the
same length, and its memory before and after.
"""

from __future__ import annotations

import random
import socket
import threading
import time
from dataclasses import replace
from typing import Any

from ganterp.live.bench.measure import rss_mb, stats
from ganterp.live.bench.show import run_show
from ganterp.live.control.osc import OscIn, osc_message
from ganterp.live.settings.schema import Config


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _osc_config(config: Config, seconds: float) -> tuple[Config, int]:
    port = _free_port()
    cfg = replace(
        config,
        show=replace(config.show, seconds=seconds, watch_presets=False),
        audio=replace(config.audio, loop=True),
        control=replace(config.control, osc_port=port, osc_out=""),
    )
    return cfg, port


def bench_osc_latency(
    config: Config, *, commands: int = 20, spacing_s: float = 0.6
) -> dict[str, Any]:
    """Time from a category jump sent over OSC to the first frame showing it.

    Parameters
    ----------
    config : Config
        The show's settings (its OSC port is replaced by a free one).
    commands : int
        Category jumps sent.
    spacing_s : float
        Least time between them, seconds (up to 50 ms of jitter is added).

    Returns
    -------
    dict
        ``commands`` sent and ``shown``, ``latency_ms`` (statistics, ms), the display
        period and median keyframe time (ms), stale keyframes dropped, the generator,
        ``target_ms`` (one display period plus one keyframe) and the display's kind.
    """
    cfg, port = _osc_config(config, commands * (spacing_s + 0.05) + 3.0)
    sent: list[tuple[float, int]] = []
    holder: dict[str, Any] = {}

    def sender() -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        rng = random.Random(3)
        time.sleep(2.0)
        clock = holder["clock"]
        for _ in range(commands):
            category = rng.randrange(1000)
            sent.append((clock.now(), category))
            sock.sendto(osc_message("/ganterp/category/jump", category), ("127.0.0.1", port))
            time.sleep(spacing_s + rng.uniform(0.0, 0.05))
        sock.close()

    def started(show: Any) -> None:
        holder["clock"] = show.clock
        threading.Thread(target=sender, daemon=True).start()

    _show, report, kind = run_show(cfg, trace=True, on_start=started)
    latencies = []
    for t_sent, category in sent:
        shown = next(
            (p.time_s for p in report.trace if p.time_s >= t_sent and p.category == category), None
        )
        if shown is not None:
            latencies.append((shown - t_sent) * 1000.0)
    period = 1000.0 / cfg.display.fps
    return {
        "commands": len(sent),
        "shown": len(latencies),
        "latency_ms": stats(latencies),
        "display_period_ms": period,
        "keyframe_ms": report.generate_ms_median,
        "keyframes_dropped": report.keyframes_cancelled,
        "generator": report.generator,
        "target_ms": period + report.generate_ms_median,
        "display": kind,
    }


def bench_osc_flood(
    config: Config, *, packets: int = 10_000, seconds: float = 8.0
) -> dict[str, Any]:
    """The show's display rate and memory under a flood of random and malformed packets.

    Parameters
    ----------
    config : Config
        The show's settings (its OSC port is replaced by a free one).
    packets : int
        Datagrams sent, as fast as one loopback socket allows.
    seconds : float
        Length of the quiet run and of the flooded run, seconds.

    Returns
    -------
    dict
        Packets sent and the time it took (seconds), the messages received, rejected
        and applied, the display's rate quiet and flooded (frames/s) and their ratio,
        resident memory before and after the flood (MiB), errors and the display's kind.
    """
    quiet_cfg, _ = _osc_config(config, seconds)
    _, quiet, _ = run_show(quiet_cfg)
    cfg, port = _osc_config(config, seconds)
    result: dict[str, Any] = {}

    def flood() -> None:
        rng = random.Random(7)
        good = osc_message("/ganterp/set/trajectory/truncation", 0.5)
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        time.sleep(1.0)
        result["rss_before_mb"] = rss_mb()
        t0 = time.perf_counter()
        for i in range(packets):
            kind = i % 4
            if kind == 0:
                data = rng.randbytes(rng.randrange(1, 200))
            elif kind == 1:
                raw = bytearray(good)
                raw[rng.randrange(len(raw))] = rng.randrange(256)
                data = bytes(raw)
            elif kind == 2:
                data = osc_message(f"/ganterp/{rng.choice(['x', 'set/a/b', 'freeze'])}", "?")
            else:
                data = osc_message("/ganterp/set/trajectory/truncation", rng.uniform(-5, 5))
            sock.sendto(data, ("127.0.0.1", port))
        result["send_s"] = time.perf_counter() - t0
        sock.close()
        time.sleep(1.0)
        result["rss_after_mb"] = rss_mb()

    def started(show: Any) -> None:
        result["show"] = show
        threading.Thread(target=flood, daemon=True).start()

    show, flooded, kind = run_show(cfg, on_start=started)
    osc_in = next(s for s in show.surfaces if isinstance(s, OscIn))
    return {
        "packets": packets,
        "send_s": result.get("send_s", float("nan")),
        "received_messages": osc_in.counters.messages,
        "rejected": osc_in.counters.rejected,
        "applied": osc_in.counters.applied,
        "quiet_fps": quiet.display_fps,
        "flood_fps": flooded.display_fps,
        "fps_ratio": flooded.display_fps / quiet.display_fps if quiet.display_fps else 0.0,
        "rss_before_mb": result.get("rss_before_mb", float("nan")),
        "rss_after_mb": result.get("rss_after_mb", float("nan")),
        "errors": flooded.control_errors + flooded.display_errors + flooded.generator_errors,
        "display": kind,
    }
