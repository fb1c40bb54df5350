"""live.settings: the declared schema, its validation, its freezing and its docs."""

from __future__ import annotations

import dataclasses
import re
import sys

import pytest

from ganterp.live.core.errors import ConfigError
from ganterp.live.settings.files import configs_dir, render_toml
from ganterp.live.settings.schema import (
    SECTIONS,
    AudioSettings,
    Config,
    DisplaySettings,
    TrajectorySettings,
    build,
    section_fields,
    to_tree,
)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

DEFAULT_TOML = configs_dir() / "default.toml"


def all_settings():
    """(section, key, field, type hint) of every declared setting."""
    for name, cls in SECTIONS.items():
        for key, (f, hint) in section_fields(cls).items():
            yield name, key, f, hint


def is_number(hint) -> bool:
    return hint in (int, float)


def is_number_list(hint) -> bool:
    return str(hint) == "tuple[int, ...]"


def setting_blocks(text: str) -> dict[str, tuple[list[str], str]]:
    """Map ``section.key`` to (the comment lines just above it, the value text)."""
    blocks: dict[str, tuple[list[str], str]] = {}
    section = None
    comments: list[str] = []
    for line in text.splitlines():
        if m := re.fullmatch(r"\[(\w+)\]", line):
            section, comments = m.group(1), []
        elif line.startswith("#"):
            comments.append(line[1:].strip())
        elif not line.strip():
            comments = []
        else:
            key, value = line.split(" = ", 1)
            assert section is not None, line
            assert f"{section}.{key}" not in blocks, f"{section}.{key} appears twice"
            blocks[f"{section}.{key}"] = (comments, value)
            comments = []
    return blocks


# -- the documentation file ---------------------------------------------------------------


def test_default_toml_is_exactly_the_rendered_schema() -> None:
    assert DEFAULT_TOML.read_text(encoding="utf-8") == render_toml()


def test_default_toml_holds_the_default_values() -> None:
    with open(DEFAULT_TOML, "rb") as fh:
        tree = tomllib.load(fh)
    assert tree == to_tree(Config())
    assert build(tree) == Config()


def test_every_setting_is_documented_once_with_its_description() -> None:
    blocks = setting_blocks(render_toml())
    declared = {f"{name}.{key}" for name, key, _, _ in all_settings()}
    assert set(blocks) == declared
    for name, key, f, _ in all_settings():
        comments, _ = blocks[f"{name}.{key}"]
        assert comments, f"{name}.{key} has no comment"
        # The description, re-wrapped, is in the comment block above the key.
        assert " ".join(f.metadata["doc"].split()) in " ".join(comments), f"{name}.{key}"


def test_every_number_states_its_range_and_unit() -> None:
    blocks = setting_blocks(render_toml())
    checked = 0
    for name, key, f, hint in all_settings():
        comments, _ = blocks[f"{name}.{key}"]
        facts = comments[-1]
        m = f.metadata
        if is_number(hint) or is_number_list(hint):
            checked += 1
            assert m["min"] is not None and m["max"] is not None, f"{name}.{key}"
            assert "Range: " in facts, f"{name}.{key}: {facts!r}"
        if m["unit"]:
            assert f"Unit: {m['unit']}." in facts, f"{name}.{key}: {facts!r}"
        if m["choices"]:
            assert "Choices: " + ", ".join(m["choices"]) + "." in facts
        assert ("Fixed while the show runs." in facts) == (not m["live"]), f"{name}.{key}"
    assert checked > 30  # nearly every setting is a number


def test_every_range_line_states_the_exact_bounds() -> None:
    blocks = setting_blocks(render_toml())
    for name, key, f, hint in all_settings():
        if not (is_number(hint) or is_number_list(hint)):
            continue
        facts = blocks[f"{name}.{key}"][0][-1]
        m = re.search(r"Range: (\S+) to (\S+?)\.(?: |$)", facts)
        assert m, facts
        lo, hi = float(m.group(1)), float(m.group(2))
        assert (lo, hi) == (f.metadata["min"], f.metadata["max"]), f"{name}.{key}: {facts}"


def test_every_default_fits_its_own_declaration() -> None:
    # Building the defaults back from their tree validates each of them.
    assert build(to_tree(Config())) == Config()
    for name, key, f, hint in all_settings():
        value = getattr(getattr(Config(), name), key)
        if is_number(hint):
            assert isinstance(value, hint) and not isinstance(value, bool)
            assert f.metadata["min"] <= value <= f.metadata["max"], f"{name}.{key}"
        if f.metadata["choices"]:
            assert value in f.metadata["choices"]


# -- building and validation ---------------------------------------------------------------


def test_empty_tree_gives_the_defaults() -> None:
    assert build({}) == Config()
    assert build({"display": {}}) == Config()


def test_values_are_coerced_to_the_declared_types() -> None:
    c = build(
        {
            "display": {"fps": 30, "fullscreen": False},
            "audio": {"channels": [1, 2]},
            "trajectory": {"categories": [3, "goldfish"]},
            "generator": {"resolution": 512},
        }
    )
    assert c.display.fps == 30.0 and type(c.display.fps) is float
    assert c.display.fullscreen is False
    assert c.audio.channels == (1, 2)
    assert c.trajectory.categories == (3, "goldfish")
    assert c.generator.resolution == 512 and type(c.generator.resolution) is int
    # untouched sections and keys keep their defaults
    assert c.display.hud == DisplaySettings().hud
    assert c.audio.sample_rate == AudioSettings().sample_rate


def test_to_tree_round_trips() -> None:
    c = build({"trajectory": {"categories": [5, "x"], "morph_s": 2.5}, "show": {"seconds": 3.0}})
    tree = to_tree(c)
    assert tree["trajectory"]["categories"] == [5, "x"]
    assert build(tree) == c


def error_of(tree, origin: str = "my.toml") -> str:
    with pytest.raises(ConfigError) as info:
        build(tree, origin=origin)
    message = str(info.value)
    assert "\n" not in message, message
    assert origin in message, message
    return message


def test_unknown_key_suggests_the_closest() -> None:
    msg = error_of({"display": {"fulscreen": True}})
    assert "display.fulscreen" in msg
    assert "did you mean 'display.fullscreen'" in msg


def test_unknown_key_without_a_close_match_has_no_suggestion() -> None:
    msg = error_of({"display": {"qqqqqqqq": 1}})
    assert "display.qqqqqqqq" in msg
    assert "did you mean" not in msg


def test_unknown_section() -> None:
    msg = error_of({"dispaly": {"fps": 30}})
    assert "[dispaly]" in msg and "did you mean 'display'" in msg


def test_section_that_is_not_a_table() -> None:
    msg = error_of({"display": 5})
    assert "[display]" in msg and "table" in msg


@pytest.mark.parametrize(
    ("section", "key", "value", "allowed"),
    [
        ("display", "fps", "fast", "a number from 1 to 360"),
        ("generator", "resolution", 256.5, "an integer from 32 to 1024"),
        ("generator", "resolution", "256", "an integer from 32 to 1024"),
        ("display", "display", True, "an integer from 0 to 16"),
        ("trajectory", "morph_s", False, "a number from 0.05 to 120"),
        ("display", "fullscreen", 1, "true or false"),
        ("display", "hud", "yes", "true or false"),
        ("display", "size", 1280, "a string"),
        ("display", "fps", float("nan"), "a number from 1 to 360"),
        ("display", "fps", float("inf"), "a number from 1 to 360"),
    ],
)
def test_wrong_type_names_key_value_and_what_is_allowed(section, key, value, allowed) -> None:
    msg = error_of({section: {key: value}})
    assert f"{section}.{key} = {value!r}" in msg
    assert allowed in msg


@pytest.mark.parametrize(
    ("section", "key", "value", "allowed"),
    [
        ("display", "fps", 1000, "a number from 1 to 360 (frames/s)"),
        ("display", "fps", 0.5, "a number from 1 to 360 (frames/s)"),
        ("trajectory", "truncation", 0.0, "a number from 0.02 to 1"),
        ("record", "crf", 52, "an integer from 0 to 51"),
        ("audio", "sample_rate", -1, "an integer from 0 to 384000 (Hz)"),
    ],
)
def test_out_of_range(section, key, value, allowed) -> None:
    msg = error_of({section: {key: value}})
    assert f"{section}.{key} = {value!r}" in msg
    assert "out of range" in msg and allowed in msg


def test_bounds_are_inclusive() -> None:
    c = build({"display": {"fps": 360}, "record": {"crf": 0}, "trajectory": {"truncation": 1.0}})
    assert (c.display.fps, c.record.crf, c.trajectory.truncation) == (360.0, 0, 1.0)


def test_bad_choice_lists_the_choices() -> None:
    msg = error_of({"trajectory": {"z_policy": "wobble"}})
    assert "trajectory.z_policy = 'wobble'" in msg
    assert "'constant'" in msg and "'per-inflection'" in msg


@pytest.mark.parametrize(
    ("section", "key", "value", "allowed"),
    [
        ("audio", "channels", ["a"], "a list of int"),
        ("audio", "channels", [1, 2.5], "a list of int"),
        ("audio", "channels", [True], "a list of int"),
        ("audio", "channels", 2, "a list"),
        ("audio", "channels", [0], "an integer from 1 to 64"),
        ("audio", "channels", [1, 65], "an integer from 1 to 64"),
        ("trajectory", "categories", [1.5], "a list of int or str"),
        ("trajectory", "categories", "goldfish", "a list"),
        ("show", "presets", [1], "a list of str"),
    ],
)
def test_list_of_wrong_items(section, key, value, allowed) -> None:
    msg = error_of({section: {key: value}})
    assert f"{section}.{key} = {value!r}" in msg
    assert allowed in msg


# -- freezing --------------------------------------------------------------------------------


def test_settings_are_frozen() -> None:
    c = Config()
    with pytest.raises(dataclasses.FrozenInstanceError):
        c.display.fps = 30.0  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        c.trajectory = TrajectorySettings()  # type: ignore[misc]
    assert c.display.fps == 60.0


def test_lists_are_tuples_so_they_cannot_change_in_place() -> None:
    c = build({"audio": {"channels": [1, 2]}, "trajectory": {"categories": [1]}})
    assert isinstance(c.audio.channels, tuple)
    assert isinstance(c.trajectory.categories, tuple)
    assert isinstance(c.show.presets, tuple)
