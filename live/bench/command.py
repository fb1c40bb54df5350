"""The ``ganterp bench`` command: its flags, the parts it runs, the tables and the JSON."""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from ganterp.live.audio.channels import to_mono
from ganterp.live.audio.decode import read_all
from ganterp.live.bench.analysis import bench_analysis, bench_inflections
from ganterp.live.bench.biggan import bench_biggan, resolve_bench_weights
from ganterp.live.bench.generator import bench_generator
from ganterp.live.bench.measure import peak_rss_mb
from ganterp.live.bench.music import bench_music, load_recording, plot_music
from ganterp.live.bench.ndi import bench_ndi
from ganterp.live.bench.osc import bench_osc_flood, bench_osc_latency
from ganterp.live.bench.render import bench_renders
from ganterp.live.bench.report import (
    inflections_table,
    music_table,
    ndi_table,
    screens_table,
    summary_table,
)
from ganterp.live.bench.screens import bench_screens
from ganterp.live.bench.show import bench_display_capacity, bench_latency, bench_show
from ganterp.live.display.window import parse_size
from ganterp.live.settings.layers import load_config
from ganterp.live.settings.schema import Config
from ganterp.live.show.build import demo_track
from ganterp.models.registry import make_generator


def add_bench_arguments(p: argparse.ArgumentParser) -> None:
    """Add the bench's flags to its sub-command's parser.

    Parameters
    ----------
    p : argparse.ArgumentParser
        The ``bench`` sub-command's parser.
    """
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
        "--music",
        type=Path,
        nargs="+",
        action="extend",
        default=[],
        help="more music for the inflection trade-off and the musicality bench"
        " (several files, or the flag repeated)",
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
    p.add_argument(
        "--render-size-seconds",
        type=float,
        default=30.0,
        help="length of the track rendered at 256 px, 720p and 1080p (s; 0 skips them)",
    )
    p.add_argument("--osc-commands", type=int, default=20, help="OSC latency samples")
    p.add_argument("--osc-packets", type=int, default=10_000, help="packets in the OSC flood")
    p.add_argument(
        "--only",
        default="analysis,generator,show,display,screens,ndi,latency,inflections,music,render,osc",
        help="comma-separated parts to run",
    )
    p.add_argument(
        "--screen-seconds",
        type=float,
        default=8.0,
        help="length of each full-screen show of the screens part (s)",
    )
    p.add_argument(
        "--screen-sizes",
        default="1280x720,1920x1080,3840x2160",
        help="X screens the screens part starts, one after the other (WIDTHxHEIGHT,...)",
    )
    p.add_argument(
        "--ndi-seconds",
        type=float,
        default=8.0,
        help="length of each show of the NDI part, without and with NDI (s)",
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
    """The non-empty, stripped items of a comma-separated list."""
    return [part.strip() for part in text.split(",") if part.strip()]


def _load(path: Path) -> tuple[np.ndarray, int]:
    audio, sr = read_all(path)
    return audio.astype(np.float32), sr


def cmd_bench(args: argparse.Namespace) -> int:
    """Run the chosen parts, print the tables, save the JSON.

    Parameters
    ----------
    args : argparse.Namespace
        The flags of :func:`add_bench_arguments`.

    Returns
    -------
    int
        The exit status, 0.
    """
    from rich.console import Console

    console = Console()
    parts = set(_names(args.only))
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
        results["analysis"] = bench_analysis(to_mono(demo), demo_sr)
    threads = args.threads or config.generator.threads
    generators = _names(args.generator)
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
        results["render"] = bench_renders(
            generators,
            seconds=args.render_seconds,
            long_seconds=args.render_long_seconds,
            size_seconds=args.render_size_seconds,
            weights=args.weights,
            biggan_dirs=biggan_dirs,
            backend=_names(args.backends)[0],
            precision=_names(args.precisions)[0],
            device=args.generator_device,
            threads=threads,
            workdir=workdir,
        )
    if "osc" in parts:
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
    if "screens" in parts:
        sizes = [parse_size(size) for size in _names(args.screen_sizes)]
        console.print(f"[bold]screens[/] ({len(sizes)} sizes, GPU and CPU drawn) …")
        results["screens"] = bench_screens(config, seconds=args.screen_seconds, sizes=sizes)
    if "ndi" in parts:
        console.print("[bold]NDI out[/] (each case without and with NDI) …")
        results["ndi"] = bench_ndi(config, seconds=args.ndi_seconds)
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

    console.print(summary_table(results))
    if "inflections" in results:
        console.print(inflections_table(results["inflections"]))
    if results.get("screens", {}).get("rows"):
        console.print(screens_table(results["screens"]))
    if results.get("ndi", {}).get("rows"):
        console.print(ndi_table(results["ndi"]))
    elif "ndi" in results:
        console.print(f"NDI part skipped: {results['ndi']['skipped']}")
    if "music" in results:
        console.print(music_table(results["music"]))
    args.json.write_text(json.dumps(results, indent=2, default=float))
    console.print(f"saved {args.json}")
    return 0


def _bench_music(args: argparse.Namespace, config: Config, threads: int) -> dict[str, Any]:
    """The musicality part on the demo track and every ``--music`` recording."""
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
