"""Loading settings: default file, preset, user file and command-line overrides.

Layers, each validated against :mod:`live.settings`, later ones winning:
``configs/default.toml`` (or ``--config FILE``) → ``--preset NAME`` →
command-line flags.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from live.errors import ConfigError
from live.settings import (
    SECTIONS,
    Config,
    build,
    did_you_mean,
    number_text,
    section_fields,
    to_tree,
)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def configs_dir() -> Path:
    """Return the directory holding ``default.toml`` and ``presets/``."""
    return Path(str(resources.files("configs")))


def read_toml(path: Path) -> dict[str, Any]:
    """Read a TOML file.

    Raises
    ------
    ConfigError
        When the file is missing, unreadable or not valid TOML (one line, with the
        parser's position).
    """
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except IsADirectoryError:
        raise ConfigError(f"config path is a directory, not a file: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None


def merge(base: Mapping[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    """Return ``base`` updated section by section with ``top`` (neither is changed)."""
    out = {k: dict(v) if isinstance(v, Mapping) else v for k, v in base.items()}
    for key, value in top.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key].update(value)
        else:
            out[key] = dict(value) if isinstance(value, Mapping) else value
    return out


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
            lines.extend(f"{key} = {_toml_value(getattr(values, key))}" for key in keys)
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


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _wrap(text: str, width: int = 88) -> list[str]:
    words, lines, line = text.split(), [], "#"
    for word in words:
        if len(line) + 1 + len(word) > width:
            lines.append(line)
            line = "#"
        line += " " + word
    lines.append(line)
    return lines


def render_toml(config: Config | None = None) -> str:
    """Render every setting, with its description, unit and range, as TOML.

    ``configs/default.toml`` is this function's output for the defaults.
    """
    config = config or Config()
    out = [
        "# ganterp settings: every setting, its unit and its range.",
        "# Generated by `ganterp config --defaults`; presets and --config files use the same keys.",
        "",
    ]
    for name, cls in SECTIONS.items():
        out.append(f"[{name}]")
        out.extend(_wrap(cls.__doc__ or name))
        out.append("")
        section = getattr(config, name)
        for key, (f, _hint) in section_fields(cls).items():
            m = f.metadata
            out.extend(_wrap(m["doc"]))
            facts = []
            if m.get("unit"):
                facts.append(f"Unit: {m['unit']}.")
            if m.get("choices"):
                facts.append("Choices: " + ", ".join(m["choices"]) + ".")
            elif m.get("min") is not None or m.get("max") is not None:
                facts.append(f"Range: {number_text(m['min'])} to {number_text(m['max'])}.")
            if not m.get("live", True):
                facts.append("Fixed while the show runs.")
            if facts:
                out.append("# " + " ".join(facts))
            out.append(f"{key} = {_toml_value(getattr(section, key))}")
            out.append("")
    return "\n".join(out).rstrip() + "\n"
