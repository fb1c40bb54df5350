"""A disk cache of compiled engines, keyed by everything that affects a build.

A TensorRT engine is only valid for the model, resolution, precision, batch,
library versions and GPU it was built for; its file name is a hash of all of
them, so a change of any one builds a new engine instead of loading a wrong one.
Entries are written to a temporary name and moved into place, so an interrupted
build leaves nothing that looks finished; an entry that fails to load is
removed, reported, and rebuilt.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

log = logging.getLogger("ganterp")


def engine_key(fields: Mapping[str, object]) -> str:
    """A short stable hash of ``fields`` (order does not matter).

    Parameters
    ----------
    fields : mapping of str to JSON-serialisable values
        Model, resolution, precision, batch, versions, GPU name, weights fingerprint…

    Returns
    -------
    str
        24 hex characters.
    """
    text = json.dumps(dict(fields), sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]


def weights_fingerprint(path: Path) -> str:
    """Identify a weight file cheaply: its resolved path, size and modification time."""
    stat = path.stat()
    return f"{path.resolve()}:{stat.st_size}:{stat.st_mtime_ns}"


class EngineCache:
    """Compiled engines on disk.

    Parameters
    ----------
    directory : Path
        Where entries live (created on first write).
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def path(self, prefix: str, fields: Mapping[str, object], suffix: str) -> Path:
        """Where the entry for ``fields`` lives, e.g. ``biggan-deep-256-<key>.ep``."""
        return self.directory / f"{prefix}-{engine_key(fields)}{suffix}"

    def get_or_build(
        self,
        path: Path,
        *,
        build: Callable[[], T],
        save: Callable[[T, Path], None],
        load: Callable[[Path], T],
        warn: Callable[[str], None] | None = None,
    ) -> tuple[T, bool]:
        """Load the entry at ``path``, or build, save and return a new one.

        Parameters
        ----------
        path : Path
            From :meth:`path`.
        build : callable
            Makes the engine (slow).
        save : callable
            Writes an engine to a file.
        load : callable
            Reads an engine from a file; any exception marks the entry corrupt.
        warn : callable, optional
            Receives a one-line warning when a corrupt entry is rebuilt or an
            engine cannot be saved.

        Returns
        -------
        engine, bool
            The engine, and whether it came from the cache.
        """
        say = warn or log.warning
        if path.is_file():
            try:
                return load(path), True
            except Exception as exc:
                say(
                    f"engine cache entry {path.name} is unreadable ({type(exc).__name__}); rebuilding"
                )
                path.unlink(missing_ok=True)
        engine = build()
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            save(engine, tmp)
            os.replace(tmp, path)
        except Exception as exc:
            say(f"could not save the engine to {path} ({exc}); it will be rebuilt next time")
            tmp.unlink(missing_ok=True)
        return engine, False
