"""Settings files and presets, layering default, preset and overrides, live changes."""

from __future__ import annotations

from pathlib import Path

import pytest

import ganterp.live.settings.layers
import ganterp.live.settings.presets
from ganterp.live.core.errors import ConfigError
from ganterp.live.settings.files import configs_dir, read_toml
from ganterp.live.settings.layers import live_changes, load_config, merge, parse_assignment
from ganterp.live.settings.presets import find_preset, list_presets
from ganterp.live.settings.schema import Config, TrajectorySettings


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def config_error(**kwargs) -> str:
    with pytest.raises(ConfigError) as info:
        load_config(**kwargs)
    message = str(info.value)
    assert "\n" not in message, message
    return message


@pytest.fixture
def own_configs(tmp_path, monkeypatch) -> Path:
    """A configs directory of our own: default.toml sets fps 50; presets 'calm' and 'fast'."""
    root = tmp_path / "configs"
    write(root / "default.toml", "[display]\nfps = 50.0\n[trajectory]\nmorph_s = 5.0\n")
    write(root / "presets" / "calm.toml", "[trajectory]\nmorph_s = 9.0\nbreathe = 1.0\n")
    write(root / "presets" / "fast.toml", "[trajectory]\nmorph_s = 1.0\n")
    use_configs(monkeypatch, root)
    return root


def use_configs(monkeypatch: pytest.MonkeyPatch, root: Path) -> None:
    """Make ``root`` the shipped settings folder for the layers and the presets."""
    for module in (ganterp.live.settings.layers, ganterp.live.settings.presets):
        monkeypatch.setattr(module, "configs_dir", lambda: root)


# -- defaults ---------------------------------------------------------------------------------


def test_no_arguments_gives_the_defaults() -> None:
    assert load_config() == Config()


def test_shipped_default_file_is_found() -> None:
    assert (configs_dir() / "default.toml").is_file()


def test_default_presets_named_in_show_presets_exist_and_load() -> None:
    available = list_presets()
    for name in Config().show.presets:
        assert name in available
        c = load_config(preset=name)
        assert isinstance(c, Config)
        assert c != Config()  # a preset changes something


# -- file errors --------------------------------------------------------------------------------


def test_invalid_toml_names_the_file(tmp_path) -> None:
    bad = write(tmp_path / "bad.toml", "[display\nfps = 3\n")
    msg = config_error(path=bad)
    assert str(bad) in msg and "not valid TOML" in msg
    assert "line 1" in msg


def test_missing_file(tmp_path) -> None:
    msg = config_error(path=tmp_path / "nope.toml")
    assert "not found" in msg and str(tmp_path / "nope.toml") in msg


def test_directory_instead_of_file(tmp_path) -> None:
    d = tmp_path / "dir.toml"
    d.mkdir()
    msg = config_error(path=d)
    assert "directory" in msg and str(d) in msg


def test_non_utf8_file(tmp_path) -> None:
    p = tmp_path / "latin.toml"
    p.write_bytes(b'[audio]\ndevice = "caf\xe9"\n')
    with pytest.raises(ConfigError, match=r"latin\.toml"):
        read_toml(p)


def test_bad_value_in_a_file_names_the_file_key_and_value(tmp_path) -> None:
    p = write(tmp_path / "user.toml", "[display]\nfps = 1000\n")
    msg = config_error(path=p)
    assert str(p) in msg and "display.fps = 1000" in msg and "from 1 to 360" in msg


def test_unknown_key_in_a_file(tmp_path) -> None:
    p = write(tmp_path / "user.toml", "[display]\nfulscreen = false\n")
    msg = config_error(path=p)
    assert str(p) in msg and "fulscreen" in msg and "did you mean 'display.fullscreen'" in msg


def test_bad_value_in_a_preset_names_the_preset_file(tmp_path) -> None:
    p = write(tmp_path / "mine.toml", '[trajectory]\nz_policy = "wobble"\n')
    msg = config_error(preset=str(p))
    assert str(p) in msg and "'wobble'" in msg and "'per-inflection'" in msg


def test_bad_override_names_the_command_line() -> None:
    msg = config_error(overrides={"display": {"fps": 1000}})
    assert "command line" in msg and "display.fps = 1000" in msg


# -- layering -------------------------------------------------------------------------------------


def test_default_file_is_the_base_layer(own_configs) -> None:
    c = load_config()
    assert c.display.fps == 50.0 and c.trajectory.morph_s == 5.0


def test_config_file_replaces_the_default(own_configs, tmp_path) -> None:
    user = write(tmp_path / "user.toml", "[trajectory]\nbreathe = 2.0\n")
    c = load_config(path=user)
    assert c.trajectory.breathe == 2.0
    # Nothing from default.toml: what the user file leaves out is the built-in default.
    assert c.display.fps == Config().display.fps == 60.0
    assert c.trajectory.morph_s == Config().trajectory.morph_s


def test_preset_layers_on_the_default(own_configs) -> None:
    c = load_config(preset="calm")
    assert c.trajectory.morph_s == 9.0  # preset wins
    assert c.trajectory.breathe == 1.0
    assert c.display.fps == 50.0  # default.toml kept where the preset is silent


def test_preset_layers_on_the_config_file(own_configs, tmp_path) -> None:
    user = write(tmp_path / "user.toml", "[trajectory]\nmorph_s = 3.0\ndrift = 2.0\n")
    c = load_config(path=user, preset="fast")
    assert c.trajectory.morph_s == 1.0
    assert c.trajectory.drift == 2.0
    assert c.display.fps == 60.0


def test_overrides_layer_last(own_configs, tmp_path) -> None:
    user = write(tmp_path / "user.toml", "[trajectory]\nmorph_s = 3.0\n")
    c = load_config(
        path=user,
        preset="calm",
        overrides={"trajectory": {"morph_s": 2.0}, "display": {"hud": True}},
    )
    assert c.trajectory.morph_s == 2.0
    assert c.trajectory.breathe == 1.0  # from the preset
    assert c.display.hud is True


def test_preset_as_a_toml_path(tmp_path) -> None:
    p = write(tmp_path / "anywhere" / "mine.toml", "[display]\nfps = 24\n")
    c = load_config(preset=str(p))
    assert c.display.fps == 24.0


def test_extra_preset_dirs_are_searched_first(own_configs, tmp_path) -> None:
    extra = tmp_path / "extra"
    write(extra / "calm.toml", "[trajectory]\nmorph_s = 7.0\n")
    write(extra / "solo.toml", "[trajectory]\nmorph_s = 6.0\n")
    assert load_config(preset="calm", extra_preset_dirs=[extra]).trajectory.morph_s == 7.0
    assert load_config(preset="solo", extra_preset_dirs=[extra]).trajectory.morph_s == 6.0
    assert load_config(preset="calm").trajectory.morph_s == 9.0


def test_unknown_preset_lists_the_available_ones(own_configs) -> None:
    msg = config_error(preset="clam")
    assert "unknown preset 'clam'" in msg
    assert "did you mean 'calm'" in msg
    assert "available: calm, fast" in msg


def test_unknown_preset_with_no_presets_at_all(tmp_path, monkeypatch) -> None:
    write(tmp_path / "empty" / "default.toml", "")
    use_configs(monkeypatch, tmp_path / "empty")
    assert list_presets() == []
    msg = config_error(preset="calm")
    assert "unknown preset 'calm'" in msg and "available: none" in msg


def test_list_and_find_presets(own_configs, tmp_path) -> None:
    extra = tmp_path / "extra"
    write(extra / "zzz.toml", "")
    write(extra / "notes.txt", "")
    assert list_presets() == ["calm", "fast"]
    assert list_presets([extra, own_configs / "presets"]) == ["calm", "fast", "zzz"]
    assert find_preset("fast") == own_configs / "presets" / "fast.toml"
    assert find_preset("zzz", [extra]) == extra / "zzz.toml"


def test_merge_is_per_key_and_leaves_its_inputs_alone() -> None:
    base = {"a": {"x": 1, "y": 2}, "b": {"z": 3}}
    top = {"a": {"y": 20}, "c": {"w": 4}}
    out = merge(base, top)
    assert out == {"a": {"x": 1, "y": 20}, "b": {"z": 3}, "c": {"w": 4}}
    assert base == {"a": {"x": 1, "y": 2}, "b": {"z": 3}}
    assert top == {"a": {"y": 20}, "c": {"w": 4}}


# -- --set ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("trajectory.morph_s=2", ("trajectory", "morph_s", 2)),
        ("trajectory.morph_s=2.5", ("trajectory", "morph_s", 2.5)),
        ("trajectory.categories=[1, 2]", ("trajectory", "categories", [1, 2])),
        ('audio.input="demo"', ("audio", "input", "demo")),
        ("display.size=1920x1080", ("display", "size", "1920x1080")),
        ("display.fullscreen=false", ("display", "fullscreen", False)),
        (" display.hud = true ", ("display", "hud", True)),
        ("audio.monitor=a=b", ("audio", "monitor", "a=b")),
    ],
)
def test_parse_assignment(text, expected) -> None:
    assert parse_assignment(text) == expected


def test_parse_assignment_types_survive_validation() -> None:
    _, _, value = parse_assignment("trajectory.morph_s=2")
    assert isinstance(value, int)
    c = load_config(overrides={"trajectory": {"morph_s": value}})
    assert c.trajectory.morph_s == 2.0


@pytest.mark.parametrize("text", ["nokey", "a=1", "=1", "trajectory.morph_s"])
def test_parse_assignment_bad_forms(text) -> None:
    with pytest.raises(ConfigError) as info:
        parse_assignment(text)
    assert text in str(info.value) and "SECTION.KEY=VALUE" in str(info.value)


# -- live changes --------------------------------------------------------------------------------


def test_live_changes_apply_live_settings_and_report_the_others() -> None:
    current = load_config(overrides={"trajectory": {"breathe": 1.0}})
    layer = {
        "trajectory": {"morph_s": 9.0, "z_policy": "per-inflection"},
        "display": {"fullscreen": False, "crossfade": False, "fps": 30},
        "generator": {"resolution": 512},
    }
    new, ignored = live_changes(current, layer)
    assert new.trajectory.morph_s == 9.0
    assert new.trajectory.z_policy == "per-inflection"
    assert new.display.crossfade is False
    assert new.trajectory.breathe == 1.0  # untouched settings are kept
    assert sorted(ignored) == ["display.fps", "display.fullscreen", "generator.resolution"]
    assert new.display.fullscreen == current.display.fullscreen is True
    assert new.generator.resolution == current.generator.resolution == 256
    # the running configuration itself is unchanged
    assert current.trajectory.morph_s == TrajectorySettings().morph_s


def test_live_changes_validate_the_layer() -> None:
    with pytest.raises(ConfigError, match=r"trajectory\.morph_s = -1"):
        live_changes(Config(), {"trajectory": {"morph_s": -1}})
    with pytest.raises(ConfigError, match=r"did you mean 'trajectory\.morph_s'"):
        live_changes(Config(), {"trajectory": {"morph_ss": 1.0}})


def test_live_changes_of_a_shipped_preset_equal_loading_it_where_live() -> None:
    name = Config().show.presets[0]
    layer = read_toml(find_preset(name))
    new, ignored = live_changes(Config(), layer)
    assert ignored == []  # the shipped presets change only live settings
    assert new == load_config(preset=name)
