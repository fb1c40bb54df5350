"""Output files checked before the work that fills them."""

from __future__ import annotations

import os
from pathlib import Path

from ganterp.live.core.errors import ConfigError


def check_output_path(path: Path, what: str) -> Path:
    """Make sure a file can be written at ``path`` before anything is computed for it.

    Parameters
    ----------
    path : Path
        The file to be written (it may exist: it is replaced).
    what : str
        The flag or command it belongs to, for the message, e.g. ``"--plot"``.

    Returns
    -------
    Path
        ``path`` with ``~`` expanded.

    Raises
    ------
    ConfigError
        One line when ``path`` is a folder, its folder does not exist, or that
        folder cannot be written.
    """
    p = path.expanduser()
    folder = p.parent
    if p.is_dir():
        raise ConfigError(f"{what}: {path} is a folder; give a file name")
    if not folder.is_dir():
        raise ConfigError(f"{what}: the folder {folder} does not exist (for {path})")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ConfigError(f"{what}: cannot write in the folder {folder}")
    return p


def partial_path(path: Path) -> Path:
    """``song.mp4`` → ``song.partial.mp4``: where a file grows until it is complete.

    Every writer (the show's recorder, a render) writes there and renames the
    file when it is done, so a complete file never has a broken twin under its
    name and an unfinished one is easy to recognise.
    """
    return path.with_name(f"{path.stem}.partial{path.suffix}")
