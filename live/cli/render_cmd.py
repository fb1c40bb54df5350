r"""``ganterp render``: the command line, including the original GANterpretations flags.

The original's sample command works with ``python src/run_ganterpreter.py``
replaced by ``ganterp render``::

    ganterp render --verbose --wav_path=song.wav --output_dir=out \\
        --inflection_threshold=1e-2 --video_file_name=song.avi \\
        --selected_categories=419,419,419,107,617,127,730,3

Under the original's flags the defaults are the original's: the ``seed``
analysis, BigGAN-deep-512 (``--model_type``), truncation 0.2, z seed 0, its
inflection threshold 0.035; the video plays at ``--fps`` (30) with the sound.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

from ganterp.live.audio.channels import CHANNELS
from ganterp.live.audio.decode import probe
from ganterp.live.cli.args import load_from_args, overrides_from_args
from ganterp.live.core.errors import ConfigError
from ganterp.live.core.paths import check_output_path, partial_path
from ganterp.live.display.window import parse_size
from ganterp.live.offline.render import render_file
from ganterp.live.settings.schema import X264_DEFAULT, X264_PRESETS
from ganterp.live.show.build import make_show_generator, resolve_categories

ORIGINAL_FLAGS = (
    "wav_path",
    "output_dir",
    "video_file_name",
    "model_type",
    "selected_categories",
    "inflection_threshold",
)
ORIGINAL_THRESHOLD = 0.035
#: A render's video size unless --size says otherwise (the original's flags: the model's).
DEFAULT_SIZE = "1280x720"
#: Highest video frame rate a render makes.
MAX_FPS = 240.0
ORIGINAL_TRUNCATION = 0.2
MODEL_TYPES = {
    "biggan-128": "biggan-deep-128",
    "biggan-256": "biggan-deep-256",
    "biggan-512": "biggan-deep-512",
}


def add_render_arguments(p: argparse.ArgumentParser) -> None:
    """The ``render`` command's own flags (settings flags are added by the caller)."""
    p.add_argument("audio", type=Path, nargs="?", help="audio file (WAV, FLAC, OGG, MP3, …)")
    p.add_argument("-o", "--output", type=Path, help="video file: .mp4 (H.264 + AAC) or .avi")
    p.add_argument(
        "--fps",
        dest="video_fps",
        type=float,
        default=30.0,
        help=f"video frame rate, up to {MAX_FPS:g} (default 30)",
    )
    p.add_argument(
        "--size",
        dest="video_size",
        help=f"video size WIDTHxHEIGHT, the generator's square picture letterboxed (default"
        f" {DEFAULT_SIZE}; under the original's flags, the generator's own square)",
    )
    p.add_argument(
        "--x264-preset",
        choices=X264_PRESETS,
        default=X264_DEFAULT,
        help="H.264 encoding speed: a faster preset makes a larger file of the same quality"
        f" (default {X264_DEFAULT}; a 2-core machine keeps up with 1080p at ultrafast)",
    )
    p.add_argument(
        "--analysis",
        choices=("seed", "live"),
        help="seed: the original's offline inflections and motion; live: the show's (default:"
        " seed under the original's flags, live otherwise)",
    )
    p.add_argument("--channel", choices=CHANNELS, default="mix", help="which channel drives it")
    p.add_argument("--render-batch", type=int, default=8, help="frames per generator call")
    p.add_argument("--report", type=Path, help="also write what was made as JSON here")
    o = p.add_argument_group("the original GANterpretations flags")
    o.add_argument("--wav_path", type=Path, help="audio file (same as AUDIO)")
    o.add_argument("--output_dir", type=Path, help="folder for the video")
    o.add_argument("--video_file_name", help="video name in --output_dir (.avi or .mp4)")
    o.add_argument("--model_type", choices=list(MODEL_TYPES), help="default biggan-512")
    o.add_argument(
        "--selected_categories", help="ImageNet indices, comma-separated, one per segment"
    )
    o.add_argument("--inflection_threshold", type=float, help="default 0.035")
    o.add_argument("--verbose", dest="original_verbose", action="store_true", help="log more")


def _output(args: argparse.Namespace, audio: Path, original: bool) -> Path:

    if args.output is not None:
        return args.output
    if original:
        name = args.video_file_name or f"{audio.stem}.avi"
        return (args.output_dir or Path.cwd()) / name
    if args.output_dir is not None or args.video_file_name is not None:
        return (args.output_dir or Path.cwd()) / (args.video_file_name or f"{audio.stem}.mp4")
    raise ConfigError("render: say where the video goes: -o OUT.mp4")


def cmd_render(args: argparse.Namespace) -> int:
    """Render a video of a file."""
    import logging

    from rich.progress import (
        BarColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    original = any(getattr(args, flag) is not None for flag in ORIGINAL_FLAGS)
    if args.original_verbose and args.verbose == 0:  # -v and -vv say more than --verbose
        logging.getLogger("ganterp").setLevel(logging.INFO)
    audio = args.audio or args.wav_path
    if audio is None:
        raise ConfigError("render: which audio? give AUDIO or --wav_path")
    out = check_output_path(_output(args, audio, original), "render")
    if args.report is not None:
        check_output_path(args.report, "--report")
    probe(audio)  # a missing or broken file is one line before anything starts
    config = load_from_args(args)
    if original:
        model = MODEL_TYPES[args.model_type or "biggan-512"]
        chosen = overrides_from_args(args).get("generator", {}).get("name")
        if chosen is not None:  # an explicit choice wins over the original's model
            model = config.generator.name
            print(
                f"ganterp: note: generator {model} instead of the original's {MODEL_TYPES[args.model_type or 'biggan-512']}"
            )
        config = replace(
            config,
            generator=replace(config.generator, name=model),
            inflection=replace(
                config.inflection,
                threshold=args.inflection_threshold
                if args.inflection_threshold is not None
                else ORIGINAL_THRESHOLD,
            ),
            trajectory=replace(
                config.trajectory,
                truncation=ORIGINAL_TRUNCATION,
                seed=0,
                categories=tuple(
                    int(c) for c in (args.selected_categories or "").split(",") if c.strip()
                )
                or config.trajectory.categories,
            ),
        )
    try:
        text = args.video_size or (None if original else DEFAULT_SIZE)
        size = parse_size(text) if text else None
    except ValueError as exc:
        raise ConfigError(f"--size: {exc}") from None
    if not 0 < args.video_fps <= MAX_FPS:
        raise ConfigError(
            f"render: --fps must be above 0 and at most {MAX_FPS:g}, not {args.video_fps:g}"
        )
    if args.render_batch < 1:
        raise ConfigError("--render-batch must be at least 1")
    analysis = args.analysis or ("seed" if original else "live")
    config = replace(config, generator=replace(config.generator, batch=args.render_batch))
    generator = make_show_generator(config)
    categories = resolve_categories(config, generator) or None
    print(
        f"ganterp: rendering {audio} -> {out} ({analysis} analysis,"
        f" {generator.status}, {args.video_fps:g} fps)"
    )
    with Progress(
        TextColumn("frames"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        transient=False,
    ) as bar:
        task = bar.add_task("render", total=None)
        try:
            report = render_file(
                audio,
                out,
                config,
                generator=generator,
                fps=args.video_fps,
                size=size,
                analysis=analysis,
                channel=args.channel,
                batch=args.render_batch,
                categories=categories,
                preset=args.x264_preset,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )
        except KeyboardInterrupt:
            partial = partial_path(out)
            left = f"a playable partial video is at {partial}" if partial.exists() else "no file"
            print(f"ganterp: interrupted; {left}", file=sys.stderr)
            return 130
    if args.report is not None:
        import json
        import resource

        data = report.to_json()
        data["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
        args.report.write_text(json.dumps(data, indent=2))
    print(
        f"ganterp: wrote {report.path}: {report.frames} frames at {report.fps:g} fps"
        f" ({report.duration_s:.1f} s), {len(report.inflections_s)} inflections,"
        f" {report.generator_calls} generator calls, {report.realtime_factor:.2f}x real time"
    )
    return 0
