"""``ganterp analyze AUDIO``: the inflections, beats and categories of a file, as a plot and JSON."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ganterp.live.audio.channels import CHANNELS
from ganterp.live.audio.decode import probe
from ganterp.live.cli.args import category_list, load_from_args
from ganterp.live.core.errors import ConfigError
from ganterp.live.core.paths import check_output_path
from ganterp.live.offline.file_analysis import analyze_file
from ganterp.live.offline.plot import plot_analysis
from ganterp.models.classes import load_class_names, parse_categories
from ganterp.models.errors import GeneratorError


def add_analyze_arguments(p: argparse.ArgumentParser) -> None:
    """The ``analyze`` command's flags (settings flags are added by the caller)."""
    p.add_argument("audio", type=Path, help="audio file (WAV, FLAC, OGG, MP3, …)")
    p.add_argument("--plot", type=Path, help="write a PNG of the analysis here")
    p.add_argument("--json", type=Path, help="write the analysis as JSON here")
    p.add_argument(
        "--analysis",
        choices=("seed", "live"),
        default="seed",
        help="whose inflections make the segments: the original's offline scan (seed) or the"
        " show's causal detector (live); both are computed and plotted",
    )
    p.add_argument("--channel", choices=CHANNELS, default="mix", help="which channel to analyse")
    p.add_argument(
        "--categories",
        type=category_list,
        help='ImageNet classes by index or name, one per segment: 419,goldfish,"tiger shark"'
        " [trajectory.categories]",
    )
    p.add_argument("--threshold", type=float, help="inflection threshold [inflection.threshold]")


def cmd_analyze(args: argparse.Namespace) -> int:
    """Analyse a file, print a summary, write the plot and JSON asked for."""
    config = load_from_args(args)  # --categories and --threshold arrive as settings
    for flag, path in (("--json", args.json), ("--plot", args.plot)):
        if path is not None:
            check_output_path(path, flag)
    probe(args.audio)  # a missing or broken file is one line before the work
    categories = None
    spec = list(config.trajectory.categories)
    if spec:
        try:
            categories = parse_categories(spec, load_class_names())
        except GeneratorError as exc:
            raise ConfigError(f"--categories: {exc}") from None
    result = analyze_file(
        args.audio, config, analysis=args.analysis, channel=args.channel, categories=categories
    )
    print(
        f"ganterp: {args.audio}: {result.duration_s:.1f} s at {result.sample_rate} Hz;"
        f" {len(result.seed_inflections_s)} seed and {len(result.live_inflections_s)} live"
        f" inflections; {len(result.onsets_s)} onsets, {len(result.beats_s)} beats,"
        f" {result.bpm:.1f} BPM"
    )
    for seg in result.segments:
        print(f"  {seg.start_s:8.2f} – {seg.end_s:8.2f} s  {seg.category:4d}  {seg.name}")
    if args.json:
        args.json.write_text(json.dumps(result.to_json(), indent=2))
        print(f"ganterp: wrote {args.json}")
    if args.plot:
        plot_analysis(result, args.plot, title=args.audio.name)
        print(f"ganterp: wrote {args.plot}")
    return 0
