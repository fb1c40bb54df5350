"""The entry point: the command line's grammar and the dispatch to each command."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from collections.abc import Sequence

from ganterp.live.bench.command import add_bench_arguments, cmd_bench
from ganterp.live.cli.analyze_cmd import add_analyze_arguments, cmd_analyze
from ganterp.live.cli.args import (
    Parser,
    add_picture_arguments,
    add_settings_arguments,
    package_version,
)
from ganterp.live.cli.config_cmd import cmd_config
from ganterp.live.cli.devices_cmd import cmd_devices
from ganterp.live.cli.live_cmd import add_live_arguments, cmd_live
from ganterp.live.cli.models_cmd import add_models_arguments, cmd_models
from ganterp.live.cli.render_cmd import add_render_arguments, cmd_render
from ganterp.live.core.errors import GanterpError
from ganterp.models.errors import GeneratorError


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every command."""
    parser = Parser(
        prog="ganterp",
        description="Real-time audio-reactive visuals: music steers a generative model.",
    )
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output")
    parser.add_argument("--version", action="version", version=f"ganterp {package_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    live = sub.add_parser("live", help="run the live show", description="Run the live show.")
    add_settings_arguments(live)
    add_live_arguments(live)

    devices = sub.add_parser("devices", help="list audio devices")
    devices.add_argument("--all", action="store_true", help="list output devices too")

    config = sub.add_parser("config", help="print settings")
    add_settings_arguments(config)
    config.add_argument(
        "--defaults", action="store_true", help="print every setting with its default, as TOML"
    )

    analyze = sub.add_parser(
        "analyze",
        help="analyse a file: inflections (both ways), beats, onsets, categories; plot and JSON",
        description="Analyse an audio file the way a render or the show would.",
    )
    add_settings_arguments(analyze)
    add_analyze_arguments(analyze)

    render = sub.add_parser(
        "render",
        help="render a video of an audio file (also takes the original GANterpretations flags)",
        description="Render a video of an audio file with the show's analysis and generator.",
    )
    add_settings_arguments(render)
    add_render_arguments(render)
    add_picture_arguments(render)

    models = sub.add_parser(
        "models",
        help="list, fetch and verify BigGAN weights",
        description="BigGAN weights: the only command that downloads.",
    )
    add_models_arguments(models)

    bench = sub.add_parser(
        "bench", help="measure speed and latency", description="Measure the show."
    )
    add_bench_arguments(bench)
    return parser


def _stop_on_sigterm(signum: int, frame: object) -> None:
    """End the command on SIGTERM (``kill``, a service manager) as Ctrl-C does.

    The show then closes its recording, so nothing is lost.
    """
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``ganterp`` command."""
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG
        if args.verbose > 1
        else logging.INFO
        if args.verbose
        else logging.WARNING,
        format="ganterp: %(levelname)s: %(message)s",
    )
    if args.command is None:
        parser.print_help()
        return 2
    handlers = {
        "live": cmd_live,
        "devices": cmd_devices,
        "config": cmd_config,
        "analyze": cmd_analyze,
        "render": cmd_render,
        "models": cmd_models,
        "bench": cmd_bench,
    }
    try:
        return handlers[args.command](args)
    except (GanterpError, GeneratorError) as exc:
        print(f"ganterp: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("ganterp: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
