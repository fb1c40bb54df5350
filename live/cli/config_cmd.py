"""``ganterp config``: the effective settings, or every default, as TOML."""

from __future__ import annotations

import argparse
import sys

from ganterp.live.cli.args import load_from_args
from ganterp.live.settings.files import render_toml


def cmd_config(args: argparse.Namespace) -> int:
    """Print the default settings, or the effective ones."""
    if args.defaults:
        sys.stdout.write(render_toml())
        return 0
    sys.stdout.write(render_toml(load_from_args(args)))
    return 0
