"""Presets in a running show: a glide, not a cut; saved; edited files applied live."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from audiofiles import write_audio
from running import running_show, wait_for
from signals import sections_with_gaps

from ganterp.live.control.fade import SettingsFade, blend_configs
from ganterp.live.core.commands import LoadPreset, SavePreset, SetSetting
from ganterp.live.display.window import NextMidiLearn
from ganterp.live.settings.files import read_toml
from ganterp.live.settings.layers import live_changes
from ganterp.live.settings.presets import save_preset
from ganterp.live.settings.schema import Config
from ganterp.live.show.operator import LEARNABLE
from ganterp.live.show.show import Show
from ganterp.live.show.views import Flashes


def test_blend_is_the_straight_line_it_promises() -> None:
    a = Config()
    b, _ = live_changes(
        a,
        {
            "trajectory": {"truncation": 0.9, "z_policy": "per-inflection", "morph_s": 10.0},
            "display": {"brightness": 0.5},
        },
    )
    for alpha in (0.0, 0.25, 0.5, 1.0):
        mid = blend_configs(a, b, alpha)
        assert mid.trajectory.truncation == pytest.approx(0.4 + alpha * 0.5)
        assert mid.trajectory.morph_s == pytest.approx(8.0 + alpha * 2.0)
        assert mid.display.brightness == pytest.approx(alpha * 0.5)
        assert mid.trajectory.z_policy == "per-inflection"  # choices switch at the start
    fade = SettingsFade(a, b, at=10.0, duration_s=2.0)
    assert fade.alpha(9.0) == 0.0 and fade.alpha(11.0) == 0.5 and fade.alpha(13.0) == 1.0
    assert fade.config(11.0).trajectory.truncation == pytest.approx(0.65)
    assert SettingsFade(a, b, at=0.0, duration_s=0.0).alpha(0.0) == 1.0


def test_saved_preset_loads_back_the_same_live_settings(tmp_path) -> None:
    c, _ = live_changes(Config(), {"trajectory": {"truncation": 0.77, "breathe": 1.5}})
    path = save_preset(c, "mine", tmp_path)
    again, ignored = live_changes(Config(), read_toml(path))
    assert ignored == [] and again.trajectory == c.trajectory and again.display == c.display


@pytest.fixture
def running(tmp_path, monkeypatch) -> Iterator[tuple[Show, Path]]:
    presets = tmp_path / "presets"
    presets.mkdir()
    monkeypatch.setenv("GANTERP_PRESETS", str(presets))
    audio, _ = sections_with_gaps(22050, lengths=(2.0, 2.0), gap=0.5)
    music = write_audio(tmp_path / "m.wav", audio, 22050)
    with running_show(music, show={"preset_fade_s": 1.0}, control={"osc_port": 0}) as show:
        yield show, presets


@pytest.mark.slow
def test_a_preset_glides_then_arrives(running) -> None:
    show, presets = running
    (presets / "wide.toml").write_text("[trajectory]\ntruncation = 1.0\n")
    show.send(LoadPreset("wide"))
    wait_for(lambda: 0.45 < show.config.trajectory.truncation < 0.95, "the glide to be under way")
    seen = [show.config.trajectory.truncation]
    wait_for(lambda: show.config.trajectory.truncation == pytest.approx(1.0), "the preset's value")
    assert 0.4 < seen[0] < 1.0  # it passed through the middle: no cut


@pytest.mark.slow
def test_edited_preset_file_is_applied_and_a_broken_one_is_not(running) -> None:
    show, presets = running
    path = presets / "edit.toml"
    path.write_text("[show]\npreset_fade_s = 0.0\n[trajectory]\ntruncation = 0.3\n")
    show.send(LoadPreset("edit"))
    wait_for(lambda: show.config.trajectory.truncation == pytest.approx(0.3), "the preset")
    assert show.active_preset[:2] == ("edit", path)
    time.sleep(0.05)
    path.write_text("[show]\npreset_fade_s = 0.0\n[trajectory]\ntruncation = 0.8\n")
    wait_for(lambda: show.config.trajectory.truncation == pytest.approx(0.8), "the edit, live")
    path.write_text("[trajectory\ntruncation = oops\n")  # a half-typed edit
    time.sleep(1.5)
    assert show.config.trajectory.truncation == pytest.approx(0.8)  # the state is kept
    show.send(SavePreset("kept"))
    wait_for(lambda: (presets / "kept.toml").is_file(), "the saved preset")
    assert "truncation = 0.8" in (presets / "kept.toml").read_text()
    show.send(SetSetting("trajectory", "truncation", 0.5))
    wait_for(lambda: show.config.trajectory.truncation == pytest.approx(0.5), "a setting")


@pytest.mark.slow
def test_the_l_key_arms_midi_learn_for_each_setting_in_turn(running) -> None:
    show, _ = running
    show.display.actions = [NextMidiLearn()]
    wait_for(lambda: show.midi_control.learning == LEARNABLE[0], "learn armed by the key")
    show.display.actions = [NextMidiLearn()]
    wait_for(lambda: show.midi_control.learning == LEARNABLE[1], "the next setting")
    hud = show._hud(show.state.get()[0], Flashes(), 1.0)
    assert any("MIDI learn: trajectory.morph_s" in w for w in hud.warnings)
