"""Device listing and resolution, against a scripted PortAudio (and a real one in test_jack)."""

from __future__ import annotations

import sys
import types
from typing import Any

import pytest

import ganterp.live.audio.devices as devices
from ganterp.live.audio.devices import (
    DeviceInfo,
    format_device_table,
    list_devices,
    resolve_device,
    shortlist,
)
from ganterp.live.core.errors import AudioInputError


class FakePortAudioError(Exception):
    pass


def fake_sd(devs: list[dict[str, Any]], default: tuple[int, int] = (0, 0)) -> types.ModuleType:
    mod = types.ModuleType("fake_sounddevice")
    hostapis = [{"name": "ALSA"}, {"name": "JACK Audio Connection Kit"}]

    def query_devices() -> list[dict[str, Any]]:
        return [dict(d, index=i) for i, d in enumerate(devs)]

    mod.query_devices = query_devices  # type: ignore[attr-defined]
    mod.query_hostapis = lambda: hostapis  # type: ignore[attr-defined]
    mod.default = types.SimpleNamespace(device=list(default))  # type: ignore[attr-defined]
    mod.PortAudioError = FakePortAudioError  # type: ignore[attr-defined]
    return mod


def dev(name: str, ins: int, outs: int, hostapi: int = 0, rate: float = 48000.0) -> dict[str, Any]:
    return {
        "name": name,
        "hostapi": hostapi,
        "max_input_channels": ins,
        "max_output_channels": outs,
        "default_samplerate": rate,
    }


STUDIO = [
    dev("HDA Intel PCH: ALC257 Analog (hw:0,0)", 2, 2, rate=44100.0),
    dev("Scarlett 2i2 USB: Audio (hw:1,0)", 2, 2),
    dev("Scarlett 18i20 USB: Audio (hw:2,0)", 18, 20),
    dev("HDMI 0 (hw:0,3)", 0, 8),
    dev("pulse", 32, 32),
    dev("default", 32, 32),
    dev("system", 2, 2, hostapi=1),
]


@pytest.fixture
def studio(monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    mod = fake_sd(STUDIO, default=(5, 5))
    monkeypatch.setattr(devices, "portaudio", lambda: mod)
    return mod


def test_list_devices_by_kind(studio: types.ModuleType) -> None:
    every = list_devices()
    assert [d.index for d in every] == list(range(len(STUDIO)))
    assert every[6] == DeviceInfo(6, "system", "JACK Audio Connection Kit", 2, 2, 48000.0)
    assert every[6].is_jack and not every[0].is_jack
    assert 3 not in [d.index for d in list_devices("input")]
    assert 3 in [d.index for d in list_devices("output")]
    with pytest.raises(ValueError):
        list_devices("both")  # type: ignore[arg-type]


def test_none_is_the_default(studio: types.ModuleType) -> None:
    assert resolve_device(None).name == "default"
    assert resolve_device(None, "output").index == 5


@pytest.mark.parametrize("spec", [2, "2", " 2 "])
def test_index(studio: types.ModuleType, spec: int | str) -> None:
    assert resolve_device(spec).name.startswith("Scarlett 18i20")


def test_case_insensitive_substring(studio: types.ModuleType) -> None:
    assert resolve_device("2I2").index == 1
    assert resolve_device("alc257").index == 0
    assert resolve_device("SYSTEM").index == 6


def test_exact_name_beats_substrings(studio: types.ModuleType) -> None:
    # "default" is a device name; no other name contains it, but exactness is what counts
    assert resolve_device("Default").index == 5
    assert resolve_device("pulse").index == 4


def test_name_with_host_api_as_the_table_shows_it(studio: types.ModuleType) -> None:
    assert resolve_device("system (jack").index == 6


def test_no_match_lists_available_names(studio: types.ModuleType) -> None:
    with pytest.raises(AudioInputError) as exc:
        resolve_device("Focusrite")
    msg = str(exc.value)
    assert "\n" not in msg and "'Focusrite'" in msg
    assert "Scarlett 2i2" in msg and "system (JACK" in msg
    assert "HDMI" not in msg  # output-only devices are not offered as inputs


def test_ambiguous_lists_the_matches(studio: types.ModuleType) -> None:
    with pytest.raises(AudioInputError) as exc:
        resolve_device("scarlett")
    msg = str(exc.value)
    assert "\n" not in msg and "matches 2" in msg
    assert "[1] Scarlett 2i2" in msg and "[2] Scarlett 18i20" in msg and "pulse" not in msg


def test_index_errors(studio: types.ModuleType) -> None:
    with pytest.raises(AudioInputError, match="no audio device with index 42"):
        resolve_device(42)
    with pytest.raises(AudioInputError, match="has no input channels"):
        resolve_device(3, "input")
    assert resolve_device(3, "output").name == "HDMI 0 (hw:0,3)"


def test_bad_specs(studio: types.ModuleType) -> None:
    with pytest.raises(AudioInputError):
        resolve_device("")
    with pytest.raises(AudioInputError):
        resolve_device(True)  # type: ignore[arg-type]
    with pytest.raises(AudioInputError):
        resolve_device(2.5)  # type: ignore[arg-type]


def test_device_info_is_found_again_by_name(studio: types.ModuleType) -> None:
    old = DeviceInfo(99, "system", "JACK Audio Connection Kit", 2, 2, 48000.0)
    assert resolve_device(old).index == 6
    gone = DeviceInfo(1, "Behringer UMC", "ALSA", 2, 2, 48000.0)
    with pytest.raises(AudioInputError, match="not available"):
        resolve_device(gone)


def test_no_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(devices, "portaudio", lambda: fake_sd(STUDIO, default=(-1, -1)))
    with pytest.raises(AudioInputError, match="no default audio input device; choose one of"):
        resolve_device(None)


def test_no_devices(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(devices, "portaudio", lambda: fake_sd([], default=(-1, -1)))
    assert list_devices() == []
    with pytest.raises(AudioInputError) as exc:
        resolve_device("mic")
    assert "no audio input devices found" in str(exc.value)


def test_only_outputs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(devices, "portaudio", lambda: fake_sd([dev("HDMI", 0, 2)]))
    with pytest.raises(AudioInputError, match="no audio input devices found"):
        resolve_device(None)


def test_portaudio_query_error(monkeypatch: pytest.MonkeyPatch) -> None:
    mod = fake_sd(STUDIO)

    def broken() -> None:
        raise FakePortAudioError("Error querying device -1")

    mod.query_devices = broken  # type: ignore[attr-defined]
    monkeypatch.setattr(devices, "portaudio", lambda: mod)
    with pytest.raises(AudioInputError, match="cannot list audio devices"):
        list_devices()


def test_no_portaudio_library(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "sounddevice", None)  # import fails like a missing lib
    with pytest.raises(AudioInputError) as exc:
        list_devices()
    msg = str(exc.value)
    assert "\n" not in msg and "PortAudio library" in msg and "libportaudio2" in msg


def test_many_devices_are_listed_briefly(monkeypatch: pytest.MonkeyPatch) -> None:
    many = [dev(f"Interface {i}", 2, 2) for i in range(40)]
    monkeypatch.setattr(devices, "portaudio", lambda: fake_sd(many))
    with pytest.raises(AudioInputError) as exc:
        resolve_device("nothing")
    assert "and 28 more" in str(exc.value)


def test_format_device_table(studio: types.ModuleType) -> None:
    table = format_device_table(list_devices(), default_input=5, default_output=3)
    lines = table.splitlines()
    assert len(lines) == 1 + len(STUDIO)
    header = lines[0]
    for col in ["index", "name", "host API", "in", "out", "default rate"]:
        assert col in header
    row = next(line for line in lines if "Scarlett 18i20" in line)
    assert row.split()[0] == "2" and "ALSA" in row and " 18 " in row and " 20 " in row
    assert "48000 Hz" in row
    assert lines[6].startswith("> ")  # "default" (index 5) is the default input
    assert lines[4].startswith(" <")  # HDMI (index 3) is the default output
    assert "44100 Hz" in lines[1]
    # columns line up
    assert len({line.index("Hz") for line in lines[1:]}) == 1
    assert format_device_table([]) == "no audio devices found"


def test_shortlist_names_at_most_twelve_then_counts_the_rest() -> None:
    assert shortlist([], ", ") == "none"
    assert shortlist(["a", "b"], "; ") == "a; b"
    names = [f"n{i}" for i in range(15)]
    text = shortlist(names, ", ", " (see here)")
    assert text.endswith("n11, and 3 more (see here)") and "n12" not in text
