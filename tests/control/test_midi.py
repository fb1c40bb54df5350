"""MIDI: mappings, curves, learn mode, and a real virtual port on a JACK server."""

from __future__ import annotations

import time
from pathlib import Path

import mido
import pytest

from ganterp.live.control.midi import MidiControl, MidiIn, MidiMapping, midi_backend
from ganterp.live.core.commands import JumpToCategory, LoadPresetSlot, NextCategory, SetSetting
from ganterp.live.core.errors import ConfigError
from ganterp.models.classes import load_class_names

NAMES = load_class_names()


def cc(control: int, value: int, channel: int = 0) -> mido.Message:
    return mido.Message("control_change", control=control, value=value, channel=channel)


def note(n: int, velocity: int = 100) -> mido.Message:
    return mido.Message("note_on", note=n, velocity=velocity)


MAP = """
[[cc]]
control = 21
setting = "trajectory.truncation"
min = 0.1
max = 0.9

[[cc]]
control = 22
channel = 2
setting = "display.brightness"
curve = "exp"

[[note]]
note = 36
action = "next"

[[note]]
note = 37
action = "category:goldfish"

[[note]]
note = 38
action = "slot:2"
"""


def test_mapping_turns_messages_into_commands(tmp_path: Path) -> None:
    path = tmp_path / "m.toml"
    path.write_text(MAP)
    m = MidiMapping.load(path, NAMES)
    assert m.command(cc(21, 0), NAMES) == SetSetting("trajectory", "truncation", 0.1)
    assert m.command(cc(21, 127), NAMES) == SetSetting("trajectory", "truncation", 0.9)
    mid = m.command(cc(21, 64), NAMES)
    assert mid.value == pytest.approx(0.1 + 0.8 * 64 / 127)
    # exp curve over the setting's own range (-1 to 1), on channel 2 only
    assert m.command(cc(22, 64, channel=1), NAMES).value == pytest.approx(-1 + 2 * (64 / 127) ** 2)
    assert m.command(cc(22, 64, channel=0), NAMES) is None
    assert m.command(note(36), NAMES) == NextCategory()
    assert m.command(note(37), NAMES) == JumpToCategory(1)
    assert m.command(note(38), NAMES) == LoadPresetSlot(2)
    assert m.command(note(36, velocity=0), NAMES) is None  # a note-off in disguise
    assert m.command(note(99), NAMES) is None


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('[[cc]]\ncontrol = 21\nsetting = "trajectory.nope"', "unknown setting"),
        ('[[cc]]\ncontrol = 200\nsetting = "trajectory.truncation"', "'control'"),
        ('[[cc]]\ncontrol = 1\nsetting = "audio.input"', "not a live number"),
        ('[[cc]]\ncontrol = 1\nsetting = "trajectory.truncation"\ncurve = "s"', "'curve'"),
        ('[[cc]]\ncontrol = 1\nsetting = "trajectory.truncation"\nmax = 7.0', "'max'"),
        ('[[note]]\nnote = 3\naction = "explode"', "unknown action"),
        ("[[note]\nbroken", "m.toml"),
    ],
)
def test_bad_mapping_files_are_one_line(tmp_path: Path, text: str, words: str) -> None:
    path = tmp_path / "m.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        MidiMapping.load(path, NAMES)
    assert words in str(err.value) and "\n" not in str(err.value)


def test_learn_binds_the_next_control_and_saves_it(tmp_path: Path) -> None:
    path = tmp_path / "learned.toml"
    sent: list = []
    control = MidiControl(MidiMapping(), path, send=sent.append, class_names=NAMES)
    control.learn("trajectory.morph_s")
    control.handle(note(40))  # not a controller: still waiting
    control.handle(cc(7, 30, channel=3))  # bound, not applied
    assert control.learning is None and sent == []
    control.handle(cc(7, 127, channel=3))
    assert sent == [SetSetting("trajectory", "morph_s", 120.0)]
    control.learn("reseed")
    control.handle(note(50))
    control.handle(note(50))
    assert type(sent[-1]).__name__ == "ReseedZ"
    again = MidiMapping.load(path, NAMES)  # saved, and loads back the same bindings
    assert again.cc == control.mapping.cc and again.notes == control.mapping.notes
    with pytest.raises(ConfigError):
        control.learn("trajectory.z_policy")


@pytest.mark.jack
def test_a_real_virtual_port_drives_the_mapping(jack_server, tmp_path: Path) -> None:
    try:
        backend, _ = midi_backend("jack")
        out = backend.open_output("ganterp-test-ctl", virtual=True)
    except Exception as exc:
        pytest.skip(f"no JACK MIDI here: {exc}")
    path = tmp_path / "m.toml"
    path.write_text(MAP)
    sent: list = []
    control = MidiControl(MidiMapping.load(path, NAMES), path, send=sent.append, class_names=NAMES)
    time.sleep(0.3)
    midi_in = MidiIn("ganterp-test-ctl", control, api="jack")
    midi_in.start()
    try:
        time.sleep(0.3)
        out.send(cc(21, 127))
        out.send(note(36))
        end = time.monotonic() + 3.0
        while len(sent) < 2 and time.monotonic() < end:
            time.sleep(0.02)
    finally:
        midi_in.stop()
        out.close()
    assert sent == [SetSetting("trajectory", "truncation", 0.9), NextCategory()]
    with pytest.raises(ConfigError, match="no MIDI input matches"):
        MidiIn("no-such-controller", control, api="jack")


def test_no_midi_system_is_one_line_naming_each_tried(
    monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    if Path("/dev/snd/seq").exists():
        pytest.skip("this machine has an ALSA sequencer")
    monkeypatch.setenv("JACK_DEFAULT_SERVER", "ganterp-absent")  # no JACK server by that name
    with pytest.raises(ConfigError) as err:
        MidiIn("USB", None)
    message = str(err.value)
    assert "\n" not in message and "tried JACK" in message and "ALSA" in message
    assert capfd.readouterr().err == ""  # libjack's own complaints are kept out
