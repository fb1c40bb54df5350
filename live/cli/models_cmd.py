"""``ganterp models``: list, fetch and verify BigGAN weights.

Nothing else in ganterp downloads: the show only reads what this command (or
``--weights DIR``) provides.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ganterp.models.biggan.catalog import MODELS, MODELS_ENV, models_dir, weights_file
from ganterp.models.biggan.fetch import fetch_model, verify_manifest
from ganterp.models.biggan.loading import load_biggan


def add_models_arguments(p: argparse.ArgumentParser) -> None:
    """The ``models`` command's sub-commands."""
    sub = p.add_subparsers(dest="models_command", metavar="ACTION", required=True)
    sub.add_parser("list", help="show each known model as present or absent")
    fetch = sub.add_parser("fetch", help="download a model into the user cache")
    fetch.add_argument("name", choices=list(MODELS), help="model name")
    fetch.add_argument(
        "--url",
        metavar="MIRROR",
        help="base URL of a mirror holding the published file names (NAME-config.json,"
        " NAME-pytorch_model.bin)",
    )
    verify = sub.add_parser("verify", help="check a model directory (or a cached model by name)")
    verify.add_argument("directory", help="model directory, or the name of a cached model")


def _size_text(n_bytes: int) -> str:
    return f"{n_bytes / 2**20:.0f} MiB" if n_bytes >= 2**20 else f"{n_bytes / 1024:.0f} KiB"


def _dir_size(directory: Path) -> int:
    return sum(p.stat().st_size for p in directory.iterdir() if p.is_file())


def cmd_models(args: argparse.Namespace) -> int:
    """Run ``ganterp models ACTION``."""
    action = {"list": _list, "fetch": _fetch, "verify": _verify}[args.models_command]
    return action(args)


def _list(args: argparse.Namespace) -> int:
    cache = models_dir()
    print(f"model cache: {cache}  (set {MODELS_ENV} to move it)")
    for name, spec in MODELS.items():
        directory = cache / name
        if (directory / "config.json").is_file() and weights_file(directory) is not None:
            state = f"present  {_size_text(_dir_size(directory)):>9}  {directory}"
        else:
            state = f"absent   {'':>9}  fetch: ganterp models fetch {name}"
        print(f"  {name:<16} {spec.resolution:>4} px  {state}")
    return 0


def _fetch(args: argparse.Namespace) -> int:
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    spec = MODELS[args.name]
    cache = models_dir()
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        transient=False,
    ) as progress:
        tasks: dict[str, int] = {}

        def update(file: str, done: int, total: int | None) -> None:
            if file not in tasks:
                tasks[file] = progress.add_task(file, total=total)
            progress.update(tasks[file], completed=done, total=total)

        directory = fetch_model(spec, cache, mirror=args.url, progress=update)
    print(f"ganterp: {spec.name} is in {directory}")
    return 0


def _verify(args: argparse.Namespace) -> int:

    directory = Path(args.directory).expanduser()
    if not directory.exists() and args.directory in MODELS:
        directory = models_dir() / args.directory
    problems = verify_manifest(directory) if directory.is_dir() else []
    if problems:
        for problem in problems:
            print(f"ganterp: error: {problem}", file=sys.stderr)
        return 2
    model = load_biggan(directory)  # raises WeightsError with one line
    params = sum(p.numel() for p in model.parameters())
    checksums = (
        "checksums match" if (directory / "ganterp-manifest.json").is_file() else "no checksums"
    )
    print(
        f"ganterp: {directory}: ok ({model.config.output_dim} px, {params / 1e6:.1f} M parameters,"
        f" every tensor present and shaped right, {checksums})"
    )
    return 0
