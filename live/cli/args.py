"""Flags shared by the commands, and the configuration they build."""

from __future__ import annotations

import argparse
import re
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any, NoReturn

from ganterp.live.settings.layers import load_config, parse_assignment
from ganterp.live.settings.schema import Config, did_you_mean


def csv_ints(text: str) -> list[int]:
    """Parse ``1,2`` into ``[1, 2]`` (an argparse type)."""
    try:
        return [int(p) for p in text.replace(" ", "").split(",") if p]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected numbers separated by commas, not '{text}'"
        ) from None


def category_list(text: str) -> list[int | str]:
    """Parse ``419,goldfish,"tiger shark"`` into indices and names, in order."""
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
        type=category_list,
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
    "midi_clock": ("control", "midi_clock"),
}


#: Flags that switch an output on, with an optional value: (flag, section, key of the value).
OUTPUT_FLAGS: tuple[tuple[str, str, str], ...] = (
    ("ndi", "ndi", "name"),
    ("syphon", "syphon", "name"),
    ("spout", "spout", "name"),
    ("virtual_camera", "virtual_camera", "device"),
)


def overrides_from_args(args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    """Collect the settings given on the command line as ``{section: {key: value}}``."""
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
    for flag, section, key in OUTPUT_FLAGS:  # --ndi [NAME], --virtual-camera [DEVICE], …
        value = getattr(args, flag, None)
        if value is not None:
            tree.setdefault(section, {})["enabled"] = True
            if value:
                tree[section][key] = value
    return tree


def load_from_args(args: argparse.Namespace) -> Config:
    """Build the configuration from ``--config``, ``--preset``, ``--set`` and the flags."""
    return load_config(path=args.config, preset=args.preset, overrides=overrides_from_args(args))


def package_version() -> str:
    """The installed distribution's version (``unknown`` when run from an uninstalled tree)."""
    try:
        return metadata.version("ganterp")
    except metadata.PackageNotFoundError:
        return "unknown"


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line with a did-you-mean, not the usage."""

    def _options_of(self, command: str | None) -> tuple[str, list[str]]:
        """The program's name and the flags it takes with ``command`` (every command's if None)."""
        options = list(self._option_string_actions)
        prog = self.prog
        for action in self._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    if command is None or name == command:
                        options += list(sub._option_string_actions)
                if command in action.choices:
                    prog = action.choices[command].prog
        return prog, sorted(set(options))

    def parse_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> argparse.Namespace:
        """Parse like argparse; an unknown flag is suggested from its own command's flags."""
        parsed, extras = self.parse_known_args(args, namespace)
        if extras:
            self._fail(
                f"unrecognized arguments: {' '.join(extras)}", getattr(parsed, "command", None)
            )
        return parsed

    def error(self, message: str) -> NoReturn:  # type: ignore[override]
        """Print ``ganterp: error: MESSAGE; did you mean …`` and exit with status 2."""
        self._fail(message, None)

    def _fail(self, message: str, command: str | None) -> NoReturn:
        hint = ""
        prog, options = self._options_of(command)
        unknown = re.match(r"unrecognized arguments: (\S+)", message)
        choice = re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)", message)
        if unknown and unknown.group(1).startswith("-"):
            flag = unknown.group(1).split("=", 1)[0]
            if flag in self._options_of(None)[1]:  # another command's flag
                hint = f"; {prog} does not take {flag}"
            else:
                hint = did_you_mean(flag, options)
        elif choice:
            options = re.findall(r"'([^']*)'", choice.group(2)) or choice.group(2).split(", ")
            hint = did_you_mean(choice.group(1), options)
        self.exit(2, f"{self.prog}: error: {message}{hint} (see {prog} --help)\n")
