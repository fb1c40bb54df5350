"""Building a show from settings: presets, categories, inputs."""

from __future__ import annotations

from dataclasses import replace

import pytest

from ganterp.live.core.clock import ManualClock
from ganterp.live.core.errors import AudioFileError, ConfigError
from ganterp.live.display.window import HeadlessDisplay
from ganterp.live.settings.layers import load_config
from ganterp.live.settings.schema import Config
from ganterp.live.show.build import (
    build_show,
    make_recorder_factory,
    preset_loader,
    resolve_categories,
)
from ganterp.models.cppn import CppnGenerator


def test_a_preset_recall_gives_the_same_look_whatever_came_before() -> None:
    base = Config()
    load = preset_loader(base)
    ambient = load("ambient")
    club = load("club")
    assert ambient.trajectory.morph_s == 16.0 and club.trajectory.morph_s == 4.0
    # club sets z_policy; ambient does not: recalled after club it is the base's again.
    assert club.trajectory.z_policy == "per-inflection"
    assert load("ambient") == ambient
    assert load("ambient").trajectory.z_policy == base.trajectory.z_policy
    # ...and ambient's threshold is not left behind by club.
    assert club.inflection.threshold == base.inflection.threshold
    # Settings fixed while the show runs are the base's in every preset.
    assert club.display == base.display and club.audio == base.audio


def test_every_shipped_preset_is_checked_when_a_show_is_built(tmp_path) -> None:
    config = load_config()
    config = replace(config, show=replace(config.show, presets=("ambient", "nosuch")))
    with pytest.raises(ConfigError, match="unknown preset 'nosuch'"):
        build_show(config, clock=ManualClock(), display=HeadlessDisplay())


def test_categories_by_index_and_name() -> None:
    config = load_config(overrides={"trajectory": {"categories": [419, "goldfish", "tiger shark"]}})
    assert resolve_categories(config, CppnGenerator(resolution=32)) == [419, 1, 3]
    bad = load_config(overrides={"trajectory": {"categories": ["goldfsh"]}})
    with pytest.raises(ConfigError, match="did you mean 'goldfish'"):
        resolve_categories(bad, CppnGenerator(resolution=32))


def test_a_missing_input_file_is_one_line_before_any_window(tmp_path) -> None:
    config = load_config(overrides={"audio": {"input": str(tmp_path / "nope.wav")}})
    with pytest.raises(AudioFileError) as exc:
        build_show(config, clock=ManualClock())  # no display given: none is opened
    assert "\n" not in str(exc.value) and "nope.wav" in str(exc.value)


def test_the_recording_size_is_a_square_or_a_frame_and_checked_before_the_show(tmp_path):
    from ganterp.live.audio.ring import AudioRing
    from ganterp.live.settings.schema import RecordSettings

    class _Source:
        ring = AudioRing(4800, 2, 48000)

    clock = ManualClock()
    for settings, size in [
        (RecordSettings(size=200), (200, 200)),
        (RecordSettings(size=200, video_size="1920x1080"), (1920, 1080)),
    ]:
        recorder = make_recorder_factory(settings, tmp_path / "r.mp4", clock)(_Source())
        assert (recorder.width, recorder.height) == size
        recorder.abort()
    with pytest.raises(ConfigError, match=r"record\.video_size: size must look like 1280x720"):
        make_recorder_factory(RecordSettings(video_size="big"), tmp_path / "x.mp4", clock)
    assert not list(tmp_path.iterdir())


def test_the_hud_names_the_start_preset_until_another_is_applied() -> None:
    from ganterp.live.core.clock import MonotonicClock
    from ganterp.live.core.commands import LoadPreset

    class Watching(HeadlessDisplay):
        def __init__(self) -> None:
            super().__init__((320, 180))
            self.presets: list[str] = []
            self.show = None

        def present(self, frame, hud) -> None:
            super().present(frame, hud)
            self.presets.append(hud.preset if hud is not None else "?")
            if len(self.presets) == 30:
                self.show.send(LoadPreset("ambient"))

    config = load_config(
        preset="club",
        overrides={
            "audio": {"input": "demo"},
            "display": {"hud": True},
            "generator": {"resolution": 32},
            "show": {"seconds": 2.0},
        },
    )
    display = Watching()
    show = build_show(config, clock=MonotonicClock(), display=display, start_preset="club")
    display.show = show
    show.run()
    assert display.presets[0] == "club" and display.presets[-1] == "ambient"
    assert display.presets.index("ambient") >= 30
