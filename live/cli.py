"""The ``ganterp`` command line.

``ganterp live`` runs the show, ``ganterp devices`` lists audio inputs,
``ganterp bench`` measures, ``ganterp config`` prints settings, ``ganterp models``
lists, fetches and verifies BigGAN weights. Every error a
user can cause ends the program with one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import signal
import sys
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any, NoReturn

from live.errors import GanterpError
from live.settings import did_you_mean
from models.errors import GeneratorError

log = logging.getLogger("ganterp")


# ----------------------------------------------------------------------------------------
# Arguments
# ----------------------------------------------------------------------------------------


def _csv_ints(text: str) -> list[int]:
    try:
        return [int(p) for p in text.replace(" ", "").split(",") if p]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected numbers separated by commas, not '{text}'"
        ) from None


def _categories(text: str) -> list[int | str]:
    items: list[int | str] = []
    for part in text.split(","):
        part = part.strip().strip('"').strip("'")
        if part:
            items.append(int(part) if part.lstrip("-").isdigit() else part)
    return items


def add_settings_arguments(p: argparse.ArgumentParser) -> None:
    """Flags shared by every command that builds a configuration."""
    g = p.add_argument_group("settings")
    g.add_argument(
        "--config", type=Path, help="settings file to use instead of configs/default.toml"
    )
    g.add_argument(
        "--preset", help="preset name (configs/presets/NAME.toml) or .toml path, layered on top"
    )
    g.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="SECTION.KEY=VALUE",
        help="set any setting (repeatable), e.g. --set trajectory.morph_s=2",
    )


def add_picture_arguments(p: argparse.ArgumentParser) -> None:
    """Flags for what is painted and how: categories, motion, detector, generator."""
    t = p.add_argument_group("picture")
    t.add_argument(
        "--categories",
        type=_categories,
        help='ImageNet classes by index or name, one per segment: 419,goldfish,"tiger shark" [trajectory.categories]',
    )
    t.add_argument("--seed", type=int, help="seed of z and the category bank [trajectory.seed]")
    t.add_argument(
        "--z-policy", choices=("constant", "per-inflection"), help="[trajectory.z_policy]"
    )
    t.add_argument("--truncation", type=float, help="truncation, 0.02 to 1 [trajectory.truncation]")
    t.add_argument(
        "--lookahead", type=float, help="inflection look-ahead in seconds [inflection.lookahead_s]"
    )
    t.add_argument("--threshold", type=float, help="inflection threshold [inflection.threshold]")
    t.add_argument("--generator", help="generator name [generator.name]")
    t.add_argument(
        "--resolution", type=int, help="cppn image size in pixels [generator.resolution]"
    )
    t.add_argument("--weights", type=Path, help="BigGAN model directory [generator.weights]")
    t.add_argument(
        "--backend",
        choices=("auto", "eager", "compile", "tensorrt"),
        help="BigGAN engine [generator.backend]",
    )
    t.add_argument(
        "--precision", choices=("auto", "fp32", "fp16", "bf16"), help="[generator.precision]"
    )
    t.add_argument("--batch", type=int, help="engine batch size [generator.batch]")
    t.add_argument("--generator-device", help="'auto', 'cpu' or 'cuda' [generator.device]")


def add_live_arguments(p: argparse.ArgumentParser) -> None:
    """The show's flags; each one sets the setting named in its help."""
    a = p.add_argument_group("audio input")
    a.add_argument("--input", help="'mic', 'jack', 'demo' or an audio file [audio.input]")
    a.add_argument(
        "--device",
        help="input device: index or name substring; for jack, a source-port pattern [audio.device]",
    )
    a.add_argument(
        "--channels", type=_csv_ints, help="input channels from 1, e.g. 1,2 [audio.channels]"
    )
    a.add_argument("--samplerate", type=int, help="sample rate in Hz [audio.sample_rate]")
    a.add_argument("--blocksize", type=int, help="frames per audio block [audio.blocksize]")
    a.add_argument(
        "--loop", action="store_true", default=None, help="loop a file input [audio.loop]"
    )
    a.add_argument(
        "--monitor",
        nargs="?",
        const="default",
        help="also play a file input to this output device (default device if none given) [audio.monitor]",
    )
    add_picture_arguments(p)
    d = p.add_argument_group("display and recording")
    d.add_argument(
        "--windowed", action="store_true", default=None, help="open a window, not full screen"
    )
    d.add_argument(
        "--fullscreen",
        action="store_true",
        default=None,
        help="open full screen [display.fullscreen]",
    )
    d.add_argument("--display", type=int, help="monitor index [display.display]")
    d.add_argument("--size", help="window size WIDTHxHEIGHT [display.size]")
    d.add_argument("--fps", type=float, help="display frame rate [display.fps]")
    d.add_argument(
        "--hud", action="store_true", default=None, help="show the HUD at start [display.hud]"
    )
    d.add_argument(
        "--headless",
        action="store_true",
        default=None,
        help="no window; record instead [display.headless]",
    )
    d.add_argument("--record", type=Path, help="record the show to this MP4 [record.path]")
    d.add_argument(
        "--visual-delay",
        type=float,
        metavar="MS",
        help="show the picture this much later [display.visual_delay_ms]",
    )
    o = p.add_argument_group("remote control")
    o.add_argument("--osc-port", type=int, help="OSC input port, 0 for none [control.osc_port]")
    o.add_argument("--osc-host", help="address OSC input binds to [control.osc_host]")
    o.add_argument(
        "--osc-allow",
        type=lambda text: [a.strip() for a in text.split(",") if a.strip()],
        help="sender addresses accepted, comma-separated [control.osc_allow]",
    )
    o.add_argument("--osc-out", help="send events to HOST:PORT [control.osc_out]")
    o.add_argument("--midi", metavar="PORT", help="MIDI input, by part of its name [control.midi]")
    o.add_argument("--midi-map", type=Path, help="MIDI mapping file [control.midi_map]")
    d.add_argument("--seconds", type=float, help="end the show after this long [show.seconds]")


#: Flag → (section, key) for the flags that set one setting each.
FLAG_SETTINGS: dict[str, tuple[str, str]] = {
    "input": ("audio", "input"),
    "device": ("audio", "device"),
    "channels": ("audio", "channels"),
    "samplerate": ("audio", "sample_rate"),
    "blocksize": ("audio", "blocksize"),
    "loop": ("audio", "loop"),
    "monitor": ("audio", "monitor"),
    "categories": ("trajectory", "categories"),
    "seed": ("trajectory", "seed"),
    "z_policy": ("trajectory", "z_policy"),
    "truncation": ("trajectory", "truncation"),
    "lookahead": ("inflection", "lookahead_s"),
    "threshold": ("inflection", "threshold"),
    "generator": ("generator", "name"),
    "resolution": ("generator", "resolution"),
    "weights": ("generator", "weights"),
    "backend": ("generator", "backend"),
    "precision": ("generator", "precision"),
    "batch": ("generator", "batch"),
    "generator_device": ("generator", "device"),
    "fullscreen": ("display", "fullscreen"),
    "display": ("display", "display"),
    "size": ("display", "size"),
    "fps": ("display", "fps"),
    "hud": ("display", "hud"),
    "headless": ("display", "headless"),
    "record": ("record", "path"),
    "seconds": ("show", "seconds"),
    "visual_delay": ("display", "visual_delay_ms"),
    "osc_port": ("control", "osc_port"),
    "osc_host": ("control", "osc_host"),
    "osc_allow": ("control", "osc_allow"),
    "osc_out": ("control", "osc_out"),
    "midi": ("control", "midi"),
    "midi_map": ("control", "midi_map"),
}


def overrides_from_args(args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    """Collect the settings given on the command line as ``{section: {key: value}}``."""
    from live.config import parse_assignment

    tree: dict[str, dict[str, Any]] = {}
    for assignment in getattr(args, "set", []) or []:
        section, key, value = parse_assignment(assignment)
        tree.setdefault(section, {})[key] = value
    for flag, (section, key) in FLAG_SETTINGS.items():
        value = getattr(args, flag, None)
        if value is None:
            continue
        if isinstance(value, Path):
            value = str(value)
        tree.setdefault(section, {})[key] = value
    if getattr(args, "windowed", None):
        tree.setdefault("display", {})["fullscreen"] = False
    return tree


def load_from_args(args: argparse.Namespace):
    """Build the configuration from ``--config``, ``--preset``, ``--set`` and the flags."""
    from live.config import load_config

    return load_config(path=args.config, preset=args.preset, overrides=overrides_from_args(args))


def package_version() -> str:
    """The installed distribution's version (``unknown`` when run from an uninstalled tree)."""
    try:
        return metadata.version("ganterp")
    except metadata.PackageNotFoundError:
        return "unknown"


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line with a did-you-mean, not the usage."""

    def _every_option(self) -> list[str]:
        options = list(self._option_string_actions)
        for action in self._actions:
            if isinstance(action, argparse._SubParsersAction):
                for sub in action.choices.values():
                    options += list(sub._option_string_actions)
        return sorted(set(options))

    def error(self, message: str) -> NoReturn:  # type: ignore[override]
        """Print ``ganterp: error: MESSAGE; did you mean …`` and exit with status 2."""
        hint = ""
        unknown = re.match(r"unrecognized arguments: (\S+)", message)
        choice = re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)", message)
        if unknown and unknown.group(1).startswith("-"):
            flag = unknown.group(1).split("=", 1)[0]
            hint = did_you_mean(flag, self._every_option())
        elif choice:
            options = re.findall(r"'([^']*)'", choice.group(2)) or choice.group(2).split(", ")
            hint = did_you_mean(choice.group(1), options)
        self.exit(2, f"{self.prog}: error: {message}{hint} (see {self.prog} --help)\n")


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

    from live.offline.analyze_cmd import add_analyze_arguments

    analyze = sub.add_parser(
        "analyze",
        help="analyse a file: inflections (both ways), beats, onsets, categories; plot and JSON",
        description="Analyse an audio file the way a render or the show would.",
    )
    add_settings_arguments(analyze)
    add_analyze_arguments(analyze)

    from live.offline.render_cmd import add_render_arguments

    render = sub.add_parser(
        "render",
        help="render a video of an audio file (also takes the original GANterpretations flags)",
        description="Render a video of an audio file with the show's analysis and generator.",
    )
    add_settings_arguments(render)
    add_render_arguments(render)
    add_picture_arguments(render)

    from live.models_cmd import add_models_arguments

    models = sub.add_parser(
        "models",
        help="list, fetch and verify BigGAN weights",
        description="BigGAN weights: the only command that downloads.",
    )
    add_models_arguments(models)

    from live.bench import add_bench_arguments

    bench = sub.add_parser(
        "bench", help="measure speed and latency", description="Measure the show."
    )
    add_bench_arguments(bench)
    return parser


# ----------------------------------------------------------------------------------------
# Commands
# ----------------------------------------------------------------------------------------


def cmd_live(args: argparse.Namespace) -> int:
    """Run the show and print what happened."""
    from dataclasses import replace

    from live.app import build_show, default_recording_path, display_available
    from live.clock import MonotonicClock

    config = load_from_args(args)
    if not config.display.headless and not display_available():
        print("ganterp: no display found; running headless (the show is recorded to a file)")
        config = replace(config, display=replace(config.display, headless=True))
    record_path: Path | None = Path(config.record.path).expanduser() if config.record.path else None
    if record_path is None and config.display.headless:
        record_path = default_recording_path()
    clock = MonotonicClock()
    show = build_show(config, clock=clock, record_path=record_path)
    if record_path is not None:
        print(f"ganterp: recording the show to {record_path}")
    generator = show.generator.status
    print(
        f"ganterp: {show.source.label} -> {generator} {show.generator.resolution}px;"
        " keys: H HUD, Space next, Esc quit"
    )
    try:
        report = show.run()
    except KeyboardInterrupt:  # the show's finally-block has closed everything
        report = show.report
    print_report(report)
    return 0 if not report.record_error else 1


def print_report(report) -> None:
    """Print a show's summary."""
    r = report
    print(
        f"ganterp: {r.seconds:.1f} s, {r.display_fps:.1f} fps shown, "
        f"{r.keyframes_per_s:.1f} keyframes/s ({r.generate_ms_median:.1f} ms median), "
        f"{r.onsets} onsets, {r.beats} beats, {r.inflections} inflections"
    )
    if r.keyframes_cancelled:
        print(f"ganterp: {r.keyframes_cancelled} keyframes dropped half-painted for a command")
    print(
        f"ganterp: audio overflows {r.overflows}, analysis drops {r.ring_dropped} frames, "
        f"generator errors {r.generator_errors}, control-loop errors {r.control_errors}"
    )
    for warning in r.generator_warnings:
        print(f"ganterp: generator: {warning}")
    if r.recording is not None:
        rec = r.recording
        print(
            f"ganterp: recorded {rec.video_s:.1f} s of video and {rec.audio_s:.1f} s of audio "
            f"to {rec.path} ({rec.frames} frames, {rec.dropped} dropped, {rec.repeated} repeated)"
        )
    if r.record_error:
        print(f"ganterp: error: {r.record_error}", file=sys.stderr)


def cmd_devices(args: argparse.Namespace) -> int:
    """List audio devices."""
    from live.audio.devices import format_device_table, list_devices

    print(format_device_table(list_devices("all" if args.all else "input")))
    from live.control.midi import midi_backend

    try:
        midi = midi_backend()[1]
    except GanterpError as exc:
        print(f"MIDI inputs: none ({exc})")
    else:
        print("MIDI inputs: " + (", ".join(midi) if midi else "none"))
    return 0


def cmd_config(args: argparse.Namespace) -> int:
    """Print the default settings, or the effective ones."""
    from live.config import render_toml

    if args.defaults:
        sys.stdout.write(render_toml())
        return 0
    sys.stdout.write(render_toml(load_from_args(args)))
    return 0


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
    handlers = {"live": cmd_live, "devices": cmd_devices, "config": cmd_config}
    try:
        if args.command == "bench":
            from live.bench import cmd_bench

            return cmd_bench(args)
        if args.command == "render":
            from live.offline.render_cmd import cmd_render

            return cmd_render(args)
        if args.command == "analyze":
            from live.offline.analyze_cmd import cmd_analyze

            return cmd_analyze(args)
        if args.command == "models":
            from live.models_cmd import cmd_models

            return cmd_models(args)
        return handlers[args.command](args)
    except (GanterpError, GeneratorError) as exc:
        print(f"ganterp: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("ganterp: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
