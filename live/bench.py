"""``ganterp bench``: speed, latency and the inflection detector's trade-off.

Every figure comes from running the real code on this machine: the analysis
over the demo track, the generator in a loop, and whole shows through the real
pipeline (file player → ring → analysis thread → trajectory → generator thread
→ compositor → pygame display). Results are printed as a table and saved as
JSON. Medians and percentiles are over the individual measurements.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

#: Look-aheads compared against the original (seconds). The first is the original's: the
#: seed detector there is the reference row; both detectors run at the others.
LOOKAHEADS_S = (0.5805, 0.4, 0.3, 0.2, 0.1)
#: A causal inflection matches an original one when this close, seconds.
MATCH_TOLERANCE_S = 0.25


def add_bench_arguments(p: argparse.ArgumentParser) -> None:
    """The bench's flags."""
    p.add_argument(
        "--json", type=Path, default=Path("ganterp-bench.json"), help="where to save the results"
    )
    p.add_argument("--show-seconds", type=float, default=60.0, help="length of the show run (s)")
    p.add_argument(
        "--latency-seconds", type=float, default=20.0, help="length of the latency run (s)"
    )
    p.add_argument("--sizes", default="128,256,512", help="cppn sizes to time (pixels)")
    p.add_argument(
        "--generator",
        default="cppn",
        help="generators to time, comma-separated (cppn, biggan-deep-128, -256, -512); the"
        " show runs on the last one",
    )
    p.add_argument(
        "--weights",
        default="",
        help="BigGAN model directory; 'random' times random weights of the real size"
        " (default: the user cache, else random)",
    )
    p.add_argument("--backends", default="auto", help="BigGAN backends, comma-separated")
    p.add_argument("--precisions", default="auto", help="BigGAN precisions, comma-separated")
    p.add_argument("--batches", default="1", help="BigGAN batch sizes, comma-separated")
    p.add_argument(
        "--generator-device", default="auto", help="where BigGAN runs: auto, cpu or cuda"
    )
    p.add_argument("--calls", type=int, default=30, help="timed calls per BigGAN row")
    p.add_argument(
        "--threads", type=int, default=0, help="generator CPU threads (default: the setting's)"
    )
    p.add_argument(
        "--input", default="demo", help="audio for the show run: 'demo', a file, or 'mic'"
    )
    p.add_argument("--device", default="", help="input device for --input mic")
    p.add_argument(
        "--music", type=Path, nargs="*", default=[], help="more music for the inflection trade-off"
    )
    p.add_argument(
        "--render-seconds", type=float, default=180.0, help="length of the track rendered (s)"
    )
    p.add_argument(
        "--render-long-seconds",
        type=float,
        default=600.0,
        help="length of the long track whose render's memory is measured (s)",
    )
    p.add_argument("--osc-commands", type=int, default=20, help="OSC latency samples")
    p.add_argument("--osc-packets", type=int, default=10_000, help="packets in the OSC flood")
    p.add_argument(
        "--only",
        default="analysis,generator,show,display,latency,inflections,music,render,osc",
        help="comma-separated parts to run",
    )
    p.add_argument(
        "--music-seconds",
        type=float,
        default=60.0,
        help="length of each recording the musicality part paints (s; 0: whole files)",
    )
    p.add_argument(
        "--music-size", type=int, default=128, help="picture size of the musicality part (px)"
    )
    p.add_argument(
        "--music-fps", type=float, default=30.0, help="frame rate of the musicality part"
    )
    p.add_argument(
        "--plot", type=Path, default=None, help="draw the musicality part's panels into this PNG"
    )


def _names(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, MiB."""
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kb / 1024.0 if sys.platform != "darwin" else kb / 2**20


def _stats(values: list[float]) -> dict[str, float]:
    if not values:
        return {"median": float("nan"), "p95": float("nan"), "n": 0}
    return {
        "median": float(np.median(values)),
        "p95": float(np.percentile(values, 95)),
        "n": len(values),
    }


# ----------------------------------------------------------------------------------------
# Parts
# ----------------------------------------------------------------------------------------


def bench_analysis(audio: np.ndarray, sample_rate: int) -> dict[str, Any]:
    """Time the analysis over a signal, at the show's block size and at a large one."""
    from live.analysis.analyzer import Analyzer
    from live.settings import AnalysisSettings, InflectionSettings

    out: dict[str, Any] = {"sample_rate": sample_rate, "audio_s": audio.shape[0] / sample_rate}
    settings = AnalysisSettings()
    for label, block in (
        ("show_block", settings.hops_per_wake * settings.hop),
        ("large_block", 4096),
    ):
        analyzer = Analyzer(sample_rate, settings, InflectionSettings())
        per_call: list[float] = []
        hops = 0
        t_start = time.process_time()
        for start in range(0, audio.shape[0], block):
            t0 = time.perf_counter()
            features, _ = analyzer.process(audio[start : start + block], start)
            per_call.append(time.perf_counter() - t0)
            hops += len(features)
        cpu = time.process_time() - t_start
        wall = sum(per_call)
        out[label] = {
            "block_samples": block,
            "us_per_hop": 1e6 * wall / max(hops, 1),
            "realtime_factor": out["audio_s"] / wall,
            "realtime_factor_cpu": out["audio_s"] / cpu if cpu > 0 else float("inf"),
            "us_per_call": _stats([1e6 * t for t in per_call]),
        }
    return out


def bench_generator(
    name: str, sizes: list[int], threads: int, calls: int = 60
) -> list[dict[str, Any]]:
    """Time batch-1 generator calls at several sizes."""
    import torch

    from models.registry import make_generator

    rows = []
    for size in sizes:
        t0 = time.perf_counter()
        gen = make_generator(name, resolution=size, threads=threads)
        build_s = time.perf_counter() - t0
        rng = np.random.default_rng(0)
        z = torch.from_numpy(rng.standard_normal((1, gen.z_dim)).astype(np.float32) * 0.4)
        y = torch.zeros(1, gen.num_classes)
        y[0, 1] = 1.0
        t0 = time.perf_counter()
        with torch.inference_mode():
            gen(z, y, 0.4)
        first_ms = 1000 * (time.perf_counter() - t0)
        times = []
        with torch.inference_mode():
            for i in range(calls):
                z[0, i % gen.z_dim] += 0.01
                t0 = time.perf_counter()
                gen(z, y, 0.4)
                times.append(1000 * (time.perf_counter() - t0))
        s = _stats(times)
        rows.append(
            {
                "generator": name,
                "resolution": size,
                "batch": 1,
                "threads": threads,
                "build_s": build_s,
                "first_call_ms": first_ms,
                "ms_per_frame": s,
                "frames_per_s": 1000.0 / s["median"],
            }
        )
    return rows


def _display(size: tuple[int, int]):
    """A real pygame window when a display exists, else pygame's off-screen driver."""
    from live.app import display_available
    from live.display.window import PygameWindow

    kind = "window"
    if not display_available():
        os.environ["SDL_VIDEODRIVER"] = "dummy"
        kind = "offscreen (SDL dummy driver: same scaling and blits, no screen)"
    return PygameWindow(fullscreen=False, size=size), kind


def run_show(config, *, trace: bool = False, on_start=None):
    """Run a show with the bench's display; return (show, report, display kind).

    ``on_start(show)``, when given, is called once the show is built, just
    before it runs (to start a load generator beside it).
    """
    from live.app import build_show
    from live.clock import MonotonicClock
    from live.display.window import parse_size

    display, kind = _display(parse_size(config.display.size))
    show = build_show(config, clock=MonotonicClock(), display=display, trace=trace)
    if on_start is not None:
        on_start(show)
    report = show.run()
    return show, report, kind


def bench_show(config, seconds: float) -> dict[str, Any]:
    """A whole show through the real pipeline at 1280x720."""
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
        "frame_interval_ms": _stats(intervals.tolist()),
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


def bench_display_capacity(config, seconds: float = 8.0) -> dict[str, Any]:
    """The same show with the display unpaced: how many frames a second it could show."""
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

    Returns
    -------
    audio : np.ndarray, shape (n,), float32
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


def bench_latency(config, seconds: float) -> dict[str, Any]:
    """Onset in the input → first displayed frame showing it, through the real pipeline."""
    import av

    from live.analysis.features import Onset

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
    onsets = [e for e in show.events.drain() if isinstance(e, Onset)]
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
        "latency_ms": _stats(latencies),
        "display_fps": report.display_fps,
        "keyframes_per_s": report.keyframes_per_s,
        "measured_from": "arrival of the audio block holding the click (block end)",
        "measured_to": "flip of the first frame whose newest keyframe was made after the onset",
    }


def _match(reference: list[float], found: list[float], tolerance: float) -> int:
    """Greedy one-to-one matches within ``tolerance`` seconds."""
    used = set()
    hits = 0
    for r in reference:
        best = None
        for j, f in enumerate(found):
            if (
                j not in used
                and abs(f - r) <= tolerance
                and (best is None or abs(f - r) < abs(found[best] - r))
            ):
                best = j
        if best is not None:
            used.add(best)
            hits += 1
    return hits


def bench_inflections(
    tracks: list[tuple[str, np.ndarray, int]], base: Any = None
) -> dict[str, Any]:
    """Agreement of the causal detectors with the original, against their look-ahead.

    The reference is the original program on each whole file (:func:`seed_curve`
    and :func:`seed_inflections` at the settings' thresholds). Each detector runs
    through the real :class:`Analyzer`, fed 4096-sample blocks: ``"seed"`` at every
    look-ahead of :data:`LOOKAHEADS_S` (the first, the original's, is the
    reference row), ``"predictive"`` at the shorter ones.

    Parameters
    ----------
    tracks : list of (name, audio, sample_rate)
        Audio of shape (n,) or (n, channels), in [-1, 1]; rate in Hz.
    base : InflectionSettings, optional
        Settings of the reference and the detectors (their ``detector`` and
        ``lookahead_s`` are replaced); the defaults when omitted.

    Returns
    -------
    dict
        ``tracks`` (names), ``tolerance_s`` and ``rows``: per detector and look-ahead
        (seconds) the counts pooled over the tracks (``original``, ``found``,
        ``matched``), ``precision``, ``recall``, ``f1``, ``decision_delay_s`` (decision
        time minus the matched original point's time, seconds) and ``per_track``.
    """
    from live.analysis.analyzer import Analyzer
    from live.analysis.features import Inflection
    from live.analysis.inflection import seed_curve, seed_inflections
    from live.settings import AnalysisSettings, InflectionSettings

    base = InflectionSettings() if base is None else base

    def original_times(mono: np.ndarray, sr: int) -> list[float]:
        # The original program on this file: its columns, the same thresholds.
        _, curve = seed_curve(mono, sample_rate=sr, nfft=base.nfft, hop=base.spectral_hop)
        columns = seed_inflections(
            curve,
            threshold=base.threshold,
            absolute_threshold=base.absolute_threshold,
            mode=base.mode,
        )[1:-1]
        return [float(c) * base.spectral_hop / sr for c in columns]

    def causal(
        mono: np.ndarray, sr: int, settings: InflectionSettings
    ) -> list[tuple[float, float]]:
        # (time, decision time) in seconds of each inflection the analyzer reports.
        analyzer = Analyzer(sr, AnalysisSettings(), settings)
        found: list[Inflection] = []
        for start in range(0, mono.shape[0], 4096):
            _, events = analyzer.process(mono[start : start + 4096], start)
            found.extend(e for e in events if isinstance(e, Inflection))
        cps = analyzer.curve_columns_per_second
        return [(f.time_s, f.decided_index / cps) for f in found]

    def rates(original: int, found: int, matched: int) -> dict[str, float]:
        precision = matched / found if found else float("nan")
        recall = matched / original if original else float("nan")
        f1 = 2 * matched / (original + found) if original + found else float("nan")
        return {"precision": precision, "recall": recall, "f1": f1}

    monos = [
        (name, (audio.mean(axis=1) if audio.ndim == 2 else audio).astype(np.float32), sr)
        for name, audio, sr in tracks
    ]
    references = [original_times(mono, sr) for _, mono, sr in monos]
    runs = [("seed", LOOKAHEADS_S[0])]
    runs += [(d, la) for la in LOOKAHEADS_S[1:] for d in ("seed", "predictive")]
    rows = []
    for detector, lookahead in runs:
        settings = replace(base, detector=detector, lookahead_s=lookahead)
        per_track: list[dict[str, Any]] = []
        delays: list[float] = []
        for (name, mono, sr), ref in zip(monos, references, strict=True):
            found = causal(mono, sr, settings)
            matched = _match(ref, [t for t, _ in found], MATCH_TOLERANCE_S)
            per_track.append(
                {"track": name, "original": len(ref), "found": len(found), "matched": matched}
            )
            for t, decided in found:
                nearest = min(ref, key=lambda r: abs(r - t)) if ref else None
                if nearest is not None and abs(nearest - t) <= MATCH_TOLERANCE_S:
                    delays.append(decided - nearest)
        counts = {k: sum(p[k] for p in per_track) for k in ("original", "found", "matched")}
        rows.append(
            {
                "detector": detector,
                "lookahead_s": lookahead,
                **counts,
                **rates(counts["original"], counts["found"], counts["matched"]),
                "decision_delay_s": _stats(delays),
                "per_track": [
                    {**p, **rates(p["original"], p["found"], p["matched"])} for p in per_track
                ],
            }
        )
    return {
        "tracks": [name for name, _, _ in tracks],
        "tolerance_s": MATCH_TOLERANCE_S,
        "rows": rows,
    }


# ----------------------------------------------------------------------------------------
# The command
# ----------------------------------------------------------------------------------------


def _load(path: Path) -> tuple[np.ndarray, int]:
    from live.audio.decode import read_all

    audio, sr = read_all(path)
    return audio.astype(np.float32), sr


def cmd_bench(args: argparse.Namespace) -> int:
    """Run the chosen parts, print the table, save the JSON."""
    from rich.console import Console
    from rich.table import Table

    from live.app import demo_track
    from live.config import load_config

    console = Console()
    parts = {p.strip() for p in args.only.split(",") if p.strip()}
    config = load_config()
    config = replace(
        config,
        display=replace(config.display, fullscreen=False, size="1280x720", headless=False),
        audio=replace(config.audio, input=args.input, device=args.device),
    )
    results: dict[str, Any] = {
        "machine": {
            "platform": platform.platform(),
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "processor": platform.processor() or platform.machine(),
        }
    }
    demo, demo_sr = _load(demo_track())
    if "analysis" in parts:
        console.print("[bold]analysis[/] …")
        results["analysis"] = bench_analysis(demo.mean(axis=1) if demo.ndim == 2 else demo, demo_sr)
    threads = args.threads or config.generator.threads
    generators = [g.strip() for g in args.generator.split(",") if g.strip()]
    biggan_dirs: dict[str, str] = {}
    workdir = Path(tempfile.mkdtemp(prefix="ganterp-bench-"))
    if "generator" in parts:
        console.print("[bold]generator[/] …")
        sizes = [int(s) for s in args.sizes.split(",") if s]
        if "cppn" in generators:
            results["generator"] = bench_generator("cppn", sizes, threads)
        for name in generators:
            if name == "cppn":
                continue
            from live.bench_biggan import bench_biggan

            console.print(f"[bold]{name}[/] …")
            out = bench_biggan(
                name,
                weights=args.weights,
                backends=_names(args.backends),
                precisions=_names(args.precisions),
                batches=[int(b) for b in _names(args.batches)],
                device=args.generator_device,
                threads=threads,
                calls=args.calls,
                workdir=workdir,
            )
            results.setdefault("biggan", []).append(out)
            biggan_dirs[name] = out["weights_dir"]
    if generators and generators[-1] != "cppn":
        from live.bench_biggan import resolve_bench_weights

        name = generators[-1]
        directory = biggan_dirs.get(name) or str(
            resolve_bench_weights(name, args.weights, workdir)[0]
        )
        config = replace(
            config,
            generator=replace(
                config.generator,
                name=name,
                weights=directory,
                backend=_names(args.backends)[0],
                precision=_names(args.precisions)[0],
                device=args.generator_device,
                batch=1,
                threads=threads,
            ),
        )
    else:
        config = replace(config, generator=replace(config.generator, threads=threads))
    if "render" in parts:
        console.print(f"[bold]render[/] ({args.render_seconds:g} s track) …")
        results["render"] = bench_renders(args, generators, biggan_dirs, workdir, threads)
    if "osc" in parts:
        from live.bench_osc import bench_osc_flood, bench_osc_latency

        console.print("[bold]OSC[/] latency and flood …")
        results["osc"] = {
            "latency": bench_osc_latency(config, commands=args.osc_commands),
            "flood": bench_osc_flood(config, packets=args.osc_packets),
        }
    if "show" in parts:
        console.print(f"[bold]show[/] ({args.show_seconds:g} s) …")
        results["show"] = bench_show(config, args.show_seconds)
    if "display" in parts:
        console.print("[bold]display capacity[/] …")
        results["display_capacity"] = bench_display_capacity(config)
    if "latency" in parts:
        console.print(f"[bold]latency[/] ({args.latency_seconds:g} s) …")
        results["latency"] = bench_latency(config, args.latency_seconds)
    if "inflections" in parts:
        console.print("[bold]inflections[/] …")
        tracks = [("demo", demo, demo_sr)]
        for path in args.music:
            audio, sr = _load(path)
            tracks.append((str(path), audio, sr))
        results["inflections"] = bench_inflections(tracks)
    if "music" in parts:
        console.print("[bold]musicality[/] …")
        results["music"] = _bench_music(args, config, threads)
    results["peak_rss_mb"] = peak_rss_mb()

    table = Table(title="ganterp bench", show_lines=False)
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_column("target / note")
    for row in summary_rows(results):
        table.add_row(*row)
    console.print(table)
    if "inflections" in results:
        t = Table(
            title=f"inflections: causal detector vs the original (match within ±{MATCH_TOLERANCE_S} s)"
        )
        for col in (
            "detector",
            "look-ahead s",
            "original",
            "found",
            "matched",
            "precision",
            "recall",
            "F1",
            "decision delay s (median)",
        ):
            t.add_column(col, justify="right")
        for r in results["inflections"]["rows"]:
            t.add_row(
                r["detector"],
                f"{r['lookahead_s']:.2f}",
                str(r["original"]),
                str(r["found"]),
                str(r["matched"]),
                f"{r['precision']:.2f}",
                f"{r['recall']:.2f}",
                f"{r['f1']:.2f}",
                f"{r['decision_delay_s']['median']:.2f}",
            )
        console.print(t)
    if "music" in results:
        console.print(music_table(results["music"]))
    args.json.write_text(json.dumps(results, indent=2, default=float))
    console.print(f"saved {args.json}")
    return 0


def _bench_music(args: argparse.Namespace, config: Any, threads: int) -> dict[str, Any]:
    """The musicality part on the demo track and every ``--music`` recording."""
    from live.app import demo_track
    from live.bench_music import bench_music, load_recording, plot_music
    from models.registry import make_generator

    gen_config = config.generator
    generator = make_generator(
        gen_config.name,
        resolution=args.music_size,
        threads=threads,
        weights=Path(gen_config.weights) if gen_config.weights else None,
        backend=gen_config.backend,
        precision=gen_config.precision,
        device=gen_config.device,
    )
    recordings = [load_recording(demo_track(), args.music_seconds, name="demo (synthetic)")]
    recordings += [load_recording(path, args.music_seconds) for path in args.music]
    out = bench_music(recordings, config, generator, fps=args.music_fps)
    if args.plot is not None:
        plot_music(out, args.plot)
        out["plot"] = str(args.plot)
    for row in out["recordings"]:
        del row["series"]  # the plot has them; the JSON keeps the figures
    return out


def music_table(music: dict[str, Any]) -> Any:
    """The musicality part's table: each measure for ganterp and the peer, per recording."""
    from rich.table import Table

    t = Table(
        title=f"musicality: ganterp / deep-music-visualizer mapping ({music['generator']},"
        f" {music['resolution']} px, {music['fps']:g} fps)"
    )
    for col in ("recording", "follow ρ", "section", "beat", "calm", "still s", "change"):
        t.add_column(col, justify="right")

    def pair(row: dict[str, Any], key: str, fmt: str = "{:.2f}") -> str:
        return " / ".join(
            "–" if v != v else fmt.format(v) for v in (row["ganterp"][key], row["dmv"][key])
        )

    for row in [*music["recordings"], {"name": "median", **music["median"]}]:
        name = row["name"] + (" (beat)" if row.get("beat_driven") else "")
        t.add_row(
            name,
            pair(row, "follow_rho"),
            pair(row, "section_response"),
            pair(row, "beat_response"),
            pair(row, "calm_in_silence"),
            pair(row, "longest_still_s", "{:.1f}"),
            pair(row, "mean_change", "{:.1f}"),
        )
    return t


def bench_renders(
    args: argparse.Namespace,
    generators: list[str],
    biggan_dirs: dict[str, str],
    workdir: Path,
    threads: int,
) -> dict[str, Any]:
    """Render a track with each generator (own processes), and a long one with cppn."""
    from live.bench_biggan import resolve_bench_weights
    from live.bench_render import make_track, original_cadence, run_render

    track = make_track(args.render_seconds, workdir)
    rows = []
    for name in generators:
        extra = ["--analysis", "live"]
        weights = ""
        if name == "cppn":
            extra += ["--resolution", "256", "--set", f"generator.threads={threads}"]
        else:
            weights = biggan_dirs.get(name) or str(
                resolve_bench_weights(name, args.weights, workdir)[0]
            )
            extra += [
                "--backend",
                _names(args.backends)[0],
                "--precision",
                _names(args.precisions)[0],
                "--generator-device",
                args.generator_device,
                "--set",
                f"generator.threads={threads}",
            ]
        row = run_render(track, name, weights=weights, extra=extra)
        row["generator_name"] = name
        row["calls_per_audio_s"] = row["generator_calls"] / row["duration_s"]
        row["frames_per_audio_s"] = row["frames"] / row["duration_s"]
        if name != "cppn":
            original = original_cadence(
                Path(weights), seconds=row["duration_s"], sample_rate=44100, threads=threads
            )
            row["original"] = original
            row["generator_time_ratio"] = row["generate_s"] / original["generator_s"]
        rows.append(row)
    long_track = make_track(args.render_long_seconds, workdir)
    long = run_render(
        long_track, "cppn", weights="", extra=["--analysis", "live", "--resolution", "256"]
    )
    return {"track_s": args.render_seconds, "rows": rows, "long": long}


def summary_rows(results: dict[str, Any]) -> list[tuple[str, str, str]]:
    """The main table's rows."""
    rows: list[tuple[str, str, str]] = []
    a = results.get("analysis")
    if a:
        for key in ("show_block", "large_block"):
            r = a[key]
            rows.append(
                (
                    f"analysis, {r['block_samples']}-sample blocks",
                    f"{r['realtime_factor']:.0f}x real time, {r['us_per_hop']:.1f} µs/hop",
                    f"≥ 100x at {a['sample_rate']} Hz",
                )
            )
    for g in results.get("generator", []):
        rows.append(
            (
                f"{g['generator']} {g['resolution']}px batch 1",
                f"{g['frames_per_s']:.1f} frames/s, {g['ms_per_frame']['median']:.1f} ms (p95 {g['ms_per_frame']['p95']:.1f})",
                f"{g['threads']} thread(s); ≥ 30/s at 256 px"
                if g["resolution"] == 256
                else f"{g['threads']} thread(s)",
            )
        )
    plain_fps = None
    for b in results.get("biggan", []):
        where = f"{b['device']}, {b['threads']} thread(s), {b['weights']} weights"
        p = b["plain_eager"]
        plain_fps = p["frames_per_s"]
        rows.append(
            (
                f"{b['generator']} plain eager fp32 batch 1",
                f"{p['frames_per_s']:.1f} frames/s, {p['ms_per_frame']['median']:.1f} ms"
                f" (p95 {p['ms_per_frame']['p95']:.1f})",
                f"the package's model as it comes; {where}",
            )
        )
        for r in b["rows"]:
            psnr = "reference" if r["psnr_db"] is None else f"PSNR {r['psnr_db']:.1f} dB"
            gpu = f", GPU {r['gpu_peak_mb']:.0f} MiB" if r["gpu_peak_mb"] is not None else ""
            rows.append(
                (
                    f"{b['generator']} {r['backend']} {r['precision']} batch {r['batch']}",
                    f"{r['frames_per_s']:.1f} frames/s, {r['ms_per_frame']['median']:.1f} ms"
                    f" (p95 {r['ms_per_frame']['p95']:.1f})",
                    f"{psnr}; first call {r['first_call_ms']:.0f} ms, build {r['build_s']:.1f} s,"
                    f" RSS {r['peak_rss_mb']:.0f} MiB{gpu}"
                    + (
                        f"; asked {r['asked']}"
                        if r["asked"] != f"{r['backend']} {r['precision']}"
                        else ""
                    ),
                )
            )
    s = results.get("show")
    if s:
        rows.append(
            (
                "show: keyframes/s (analysis running)",
                f"{s['keyframes_per_s']:.1f}",
                f"{s['generator']}; ≥ 30 for cppn 256 px",
            )
        )
        if plain_fps and not s["generator"].startswith("cppn"):
            rows.append(
                (
                    "show keyframes/s ÷ plain eager fp32 batch 1",
                    f"{s['keyframes_per_s'] / plain_fps:.2f}x",
                    "same run; ≥ 1.5x on a CPU",
                )
            )
        rows.append(
            (
                "show: display fps",
                f"{s['display_fps']:.1f}",
                f"{s['display_size']}, {s['display']}; ≥ 60",
            )
        )
        fi = s["frame_interval_ms"]
        rows.append(
            (
                "show: frame interval",
                f"median {fi['median']:.1f} ms, p95 {fi['p95']:.1f} ms",
                f"{s['late_frames']} frames later than 1.5 periods",
            )
        )
        rows.append(
            ("show: audio overflows", str(s["audio_overflows"]), f"{s['seconds']:.0f} s show; 0")
        )
        rows.append(("show: analysis ring drops", str(s["analysis_ring_drops"]), "0"))
        rows.append(("show: peak RSS", f"{s['peak_rss_mb']:.0f} MiB", "≤ 1536 MiB"))
    cap = results.get("display_capacity")
    if cap:
        rows.append(
            (
                "display capacity (unpaced)",
                f"{cap['frames_per_s']:.0f} frames/s",
                f"{cap['display_size']}, {cap['display']}, generator and analysis running",
            )
        )
    lat = results.get("latency")
    if lat:
        m = lat["latency_ms"]
        rows.append(
            (
                "onset → screen latency",
                f"median {m['median']:.0f} ms, p95 {m['p95']:.0f} ms",
                f"{lat['detected']}/{lat['clicks']} clicks; ≤ 100 ms median",
            )
        )
    osc = results.get("osc")
    if osc:
        lat, flood = osc["latency"], osc["flood"]
        m = lat["latency_ms"]
        rows.append(
            (
                f"OSC category jump → first frame showing it ({lat['generator']})",
                f"median {m['median']:.0f} ms, p95 {m['p95']:.0f} ms",
                f"{lat['shown']}/{lat['commands']} shown, {lat['keyframes_dropped']} stale"
                f" keyframes dropped; ≤ one frame + one keyframe ({lat['target_ms']:.0f} ms)",
            )
        )
        rows.append(
            (
                f"OSC flood, {flood['packets']} bad packets",
                f"{flood['flood_fps']:.1f} fps ({flood['fps_ratio'] * 100:.0f} % of quiet)",
                f"{flood['rejected']} rejected, {flood['errors']} errors, RSS"
                f" {flood['rss_before_mb']:.0f} → {flood['rss_after_mb']:.0f} MiB; ≥ 90 %",
            )
        )
    render = results.get("render")
    if render:
        for r in render["rows"]:
            rows.append(
                (
                    f"render {r['generator']}, {render['track_s']:g} s track",
                    f"{r['realtime_factor']:.2f}x real time",
                    f"{r['fps']:g} fps, {r['generator_calls']} calls"
                    f" ({r['calls_per_audio_s']:.2f}/audio s)"
                    + ("; ≥ 1x for cppn 256 px" if r["generator_name"] == "cppn" else ""),
                )
            )
            if "original" in r:
                o = r["original"]
                rows.append(
                    (
                        f"render {r['generator_name']} generator time ÷ the original's cadence",
                        f"{r['generator_time_ratio']:.3f}",
                        f"{r['generate_s']:.0f} s vs {o['generator_s']:.0f} s"
                        f" ({o['frames_per_audio_s']:.1f} frames/audio s at"
                        f" {o['ms_per_frame']['median']:.0f} ms, timed on {o['timed_frames']});"
                        " ≤ 0.1",
                    )
                )
        long = render["long"]
        rss = long["peak_rss_mb"]
        rows.append(
            (
                f"render cppn, {long['duration_s']:.0f} s track: peak RSS",
                f"{rss:.0f} MiB" if rss else "n/a",
                f"{long['realtime_factor']:.2f}x real time; ≤ 2048 MiB",
            )
        )
    if "peak_rss_mb" in results:
        rows.append(("bench process peak RSS", f"{results['peak_rss_mb']:.0f} MiB", ""))
    return rows
