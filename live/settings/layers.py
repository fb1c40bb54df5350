"""The settings' layers, each validated, later ones winning.

``configs/default.toml`` (or ``--config FILE``) → ``--preset NAME`` →
command-line flags; a preset loaded during the show is one more layer.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ganterp.live.core.errors import ConfigError
from ganterp.live.settings.schema import (
    SECTIONS,
    Config,
    build,
    section_fields,
    to_tree,
)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from ganterp.live.settings.files import configs_dir, read_toml
from ganterp.live.settings.presets import find_preset, preset_dirs


def merge(base: Mapping[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    """Return ``base`` updated section by section with ``top`` (neither is changed)."""
    out = {k: dict(v) if isinstance(v, Mapping) else v for k, v in base.items()}
    for key, value in top.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key].update(value)
        else:
            out[key] = dict(value) if isinstance(value, Mapping) else value
    return out


def parse_assignment(text: str) -> tuple[str, str, Any]:
    """Parse ``section.key=value`` as given to ``--set``.

    The value is read as TOML (``5``, ``0.5``, ``true``, ``[1, 2]``, ``"x"``) and
    taken as a plain string when it is not valid TOML.

    Returns
    -------
    section, key, value
    """
    if "=" not in text or "." not in text.split("=", 1)[0]:
        raise ConfigError(f"--set expects SECTION.KEY=VALUE, got '{text}'")
    dotted, raw = text.split("=", 1)
    section, key = dotted.strip().split(".", 1)
    try:
        value = tomllib.loads(f"v = {raw.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw.strip()
    return section, key, value


def load_config(
    *,
    path: Path | None = None,
    preset: str | None = None,
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
    extra_preset_dirs: Iterable[Path] = (),
) -> Config:
    """Build the configuration from its layers.

    Parameters
    ----------
    path : Path, optional
        Settings file replacing ``configs/default.toml``.
    preset : str, optional
        Name of a preset (or path of a preset file) layered on top.
    overrides : Mapping, optional
        ``{section: {key: value}}`` from the command line, layered last.
    extra_preset_dirs : iterable of Path
        Searched for presets before the shipped ones.

    Raises
    ------
    ConfigError
        Naming the file, the key, the value and what is allowed.
    """
    base_path = path if path is not None else configs_dir() / "default.toml"
    tree = read_toml(base_path)
    build(tree, origin=str(base_path))
    if preset:
        preset_path = find_preset(preset, [*extra_preset_dirs, *preset_dirs()])
        layer = read_toml(preset_path)
        build(layer, origin=str(preset_path))
        tree = merge(tree, layer)
    if overrides:
        build(overrides, origin="the command line")
        tree = merge(tree, overrides)
    return build(tree, origin="the combined settings")


def live_changes(
    current: Config, layer: Mapping[str, Any], *, origin: str = "the preset"
) -> tuple[Config, list[str]]:
    """Apply a preset's settings to a running show's configuration.

    Only settings declared ``live`` change; the others are returned by name so
    the caller can say they need a restart.

    Returns
    -------
    config : Config
        The new configuration.
    ignored : list of str
        ``section.key`` of each setting that cannot change while running.
    """
    build(layer, origin=origin)
    ignored: list[str] = []
    updates: dict[str, dict[str, Any]] = {}
    for name, values in layer.items():
        fields = section_fields(SECTIONS[name])
        for key, value in values.items():
            if fields[key][0].metadata.get("live", True):
                updates.setdefault(name, {})[key] = value
            else:
                ignored.append(f"{name}.{key}")
    tree = merge(to_tree(current), updates)
    return build(tree, origin=origin), ignored
