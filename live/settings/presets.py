"""Presets: the folders searched, finding one by name, saving the live settings as one."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from pathlib import Path

from ganterp.live.core.errors import ConfigError
from ganterp.live.settings.schema import (
    SECTIONS,
    Config,
    did_you_mean,
    section_fields,
)

if sys.version_info >= (3, 11):
    pass
else:  # pragma: no cover
    pass

from ganterp.live.settings.files import configs_dir, toml_value

PRESETS_ENV = "GANTERP_PRESETS"
"""Environment variable that moves the user's preset directory."""


def user_presets_dir() -> Path:
    """Where saved presets go: the user's config directory (or ``$GANTERP_PRESETS``)."""
    override = os.environ.get(PRESETS_ENV, "").strip()
    if override:
        return Path(override).expanduser()
    from platformdirs import user_config_dir

    return Path(user_config_dir("ganterp")) / "presets"


def preset_dirs(extra: Iterable[Path] = ()) -> list[Path]:
    """Directories searched for presets, most specific first: given, the user's, shipped."""
    return [*extra, user_presets_dir(), configs_dir() / "presets"]


def save_preset(config: Config, name: str, directory: Path | None = None) -> Path:
    """Write ``config``'s live settings as preset ``name``.

    Parameters
    ----------
    config : Config
        The state to keep.
    name : str
        Letters, digits, ``-`` and ``_`` only.
    directory : Path, optional
        Default: :func:`user_presets_dir`.

    Returns
    -------
    Path
        The file written (atomically: a reader never sees half of it).

    Raises
    ------
    ConfigError
        For a name that is not a plain file name, or a file that cannot be written.
    """
    if not name or not all(c.isalnum() or c in "-_" for c in name):
        raise ConfigError(f"preset name '{name}': use letters, digits, '-' and '_'")
    directory = directory or user_presets_dir()
    lines = [f"# {name}: saved from a running show."]
    for section, cls in SECTIONS.items():
        values = getattr(config, section)
        keys = [key for key, (f, _) in section_fields(cls).items() if f.metadata.get("live", True)]
        if keys:
            lines.append(f"[{section}]")
            lines.extend(f"{key} = {toml_value(getattr(values, key))}" for key in keys)
    path = directory / f"{name}.toml"
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        raise ConfigError(f"cannot save preset to {path}: {exc.strerror}") from None
    return path


def list_presets(dirs: Iterable[Path] | None = None) -> list[str]:
    """Names of every preset found, sorted."""
    names: set[str] = set()
    for d in dirs if dirs is not None else preset_dirs():
        if d.is_dir():
            names.update(p.stem for p in d.glob("*.toml"))
    return sorted(names)


def find_preset(name: str, dirs: Iterable[Path] | None = None) -> Path:
    """Return the file of preset ``name`` (a name, or a path to a ``.toml`` file).

    Raises
    ------
    ConfigError
        When no such preset exists; the message lists those that do.
    """
    as_path = Path(name)
    if as_path.suffix == ".toml" and as_path.is_file():
        return as_path
    search = list(dirs) if dirs is not None else preset_dirs()
    for d in search:
        candidate = d / f"{name}.toml"
        if candidate.is_file():
            return candidate
    known = list_presets(search)
    hint = did_you_mean(name, known)
    listing = ", ".join(known) if known else "none"
    raise ConfigError(f"unknown preset '{name}'{hint} (available: {listing})")
