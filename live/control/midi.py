"""MIDI control: a mapping file from controllers and notes to commands, and learn mode.

A mapping is a TOML file::

    [[cc]]                       # a knob or fader
    control = 21                 # CC number, 0-127
    channel = 1                  # 1-16; leave out for any channel
    setting = "trajectory.truncation"
    min = 0.1                    # optional: the setting's own range by default
    max = 0.9
    curve = "linear"             # or "exp" (fine control at the low end) or "log"

    [[note]]                     # a pad or key
    note = 36
    action = "next"              # next, previous, reseed, freeze, unfreeze,
                                 # blackout, unblackout, hud, tap, release,
                                 # preset:NAME, slot:N, category:NAME-OR-INDEX

Learn mode: ask for a setting or an action (``/ganterp/midi/learn``), move a
control or hit a pad, and the binding is made and saved to the mapping file.
"""

from __future__ import annotations

import logging
import math
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ganterp.live.core.commands import (
    Blackout,
    Command,
    Freeze,
    JumpToCategory,
    LoadPreset,
    LoadPresetSlot,
    NextCategory,
    PreviousCategory,
    ReleaseTempo,
    ReseedZ,
    SetSetting,
    ShowHud,
    TapTempo,
)
from ganterp.live.core.errors import ConfigError, one_line
from ganterp.live.core.stderr import quiet_native_stderr
from ganterp.live.settings.files import read_toml
from ganterp.live.settings.schema import SECTIONS, section_fields
from ganterp.models.classes import parse_categories
from ganterp.models.errors import GeneratorError

log = logging.getLogger("ganterp.midi")

CURVES = ("linear", "exp", "log")
ACTIONS = (
    "next",
    "previous",
    "reseed",
    "freeze",
    "unfreeze",
    "blackout",
    "unblackout",
    "hud",
    "tap",
    "release",
)


def _numeric_setting(name: str) -> tuple[str, str, float, float, type]:
    section, _, key = name.partition(".")
    cls = SECTIONS.get(section)
    fields = section_fields(cls) if cls is not None else {}
    if key not in fields:
        raise ConfigError(f"MIDI mapping: unknown setting '{name}'")
    f, hint = fields[key]
    if hint not in (int, float) or not f.metadata.get("live", True):
        raise ConfigError(f"MIDI mapping: '{name}' is not a live number")
    return section, key, float(f.metadata["min"]), float(f.metadata["max"]), hint


@dataclass(frozen=True)
class CcBinding:
    """A controller moving a number setting."""

    control: int
    setting: str
    min: float
    max: float
    curve: str = "linear"
    channel: int | None = None

    def value(self, cc_value: int) -> float:
        """The setting's value for a controller value 0-127."""
        x = max(0, min(127, cc_value)) / 127.0
        if self.curve == "exp":
            x = x * x
        elif self.curve == "log":
            x = math.sqrt(x)
        return self.min + x * (self.max - self.min)


@dataclass(frozen=True)
class NoteBinding:
    """A pad or key triggering an action."""

    note: int
    action: str
    channel: int | None = None


def action_command(action: str, class_names: Sequence[str]) -> Command:
    """The command for an action name.

    Raises
    ------
    ConfigError
        For an unknown action.
    """
    simple: dict[str, Callable[[], Command]] = {
        "next": NextCategory,
        "previous": PreviousCategory,
        "reseed": ReseedZ,
        "freeze": lambda: Freeze(True),
        "unfreeze": lambda: Freeze(False),
        "blackout": lambda: Blackout(True),
        "unblackout": lambda: Blackout(False),
        "hud": lambda: ShowHud(True),
        "tap": TapTempo,
        "release": ReleaseTempo,
    }
    if action in simple:
        return simple[action]()
    kind, _, arg = action.partition(":")
    if kind == "preset" and arg:
        return LoadPreset(arg)
    if kind == "slot" and arg.isdigit() and 1 <= int(arg) <= 9:
        return LoadPresetSlot(int(arg))
    if kind == "category" and arg:
        try:
            item: int | str = int(arg) if arg.isdigit() else arg
            return JumpToCategory(parse_categories([item], class_names)[0])
        except GeneratorError as exc:
            raise ConfigError(f"MIDI mapping: {exc}") from None
    raise ConfigError(
        f"MIDI mapping: unknown action '{action}' ({', '.join(ACTIONS)},"
        " preset:NAME, slot:N, category:NAME)"
    )


def _int(entry: dict[str, Any], key: str, lo: int, hi: int, where: str) -> int:
    value = entry.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise ConfigError(f"{where}: '{key}' must be an integer from {lo} to {hi}")
    return value


@dataclass
class MidiMapping:
    """Controllers and notes bound to settings and actions."""

    cc: list[CcBinding] = field(default_factory=list)
    notes: list[NoteBinding] = field(default_factory=list)

    @classmethod
    def load(cls, path: Path, class_names: Sequence[str]) -> MidiMapping:
        """Read a mapping file (a missing file is an empty mapping).

        Raises
        ------
        ConfigError
            One line naming the file, the entry and what is wrong.
        """
        if not path.exists():
            return cls()
        data = read_toml(path)
        mapping = cls()
        for i, entry in enumerate(data.get("cc", [])):
            where = f"{path}: cc entry {i + 1}"
            if not isinstance(entry, dict):
                raise ConfigError(f"{where}: expected a table")
            name = entry.get("setting")
            if not isinstance(name, str):
                raise ConfigError(f"{where}: 'setting' must be SECTION.KEY")
            _, _, lo, hi, _ = _numeric_setting(name)
            curve = entry.get("curve", "linear")
            if curve not in CURVES:
                raise ConfigError(f"{where}: 'curve' must be one of {', '.join(CURVES)}")
            low, high = entry.get("min", lo), entry.get("max", hi)
            if not all(isinstance(v, int | float) and lo <= v <= hi for v in (low, high)):
                raise ConfigError(f"{where}: 'min' and 'max' must lie in {lo:g} to {hi:g}")
            channel = _int(entry, "channel", 1, 16, where) if "channel" in entry else None
            mapping.cc.append(
                CcBinding(
                    _int(entry, "control", 0, 127, where),
                    name,
                    float(low),
                    float(high),
                    curve,
                    channel,
                )
            )
        for i, entry in enumerate(data.get("note", [])):
            where = f"{path}: note entry {i + 1}"
            if not isinstance(entry, dict) or not isinstance(entry.get("action"), str):
                raise ConfigError(f"{where}: expected a table with an 'action'")
            action_command(entry["action"], class_names)  # checked now, not on stage
            channel = _int(entry, "channel", 1, 16, where) if "channel" in entry else None
            mapping.notes.append(
                NoteBinding(_int(entry, "note", 0, 127, where), entry["action"], channel)
            )
        return mapping

    def save(self, path: Path) -> None:
        """Write the mapping as TOML (atomically)."""
        lines = ["# ganterp MIDI mapping (written by learn mode; edit freely)."]
        for b in self.cc:
            lines += [
                "",
                "[[cc]]",
                f"control = {b.control}",
                f'setting = "{b.setting}"',
                f"min = {b.min!r}",
                f"max = {b.max!r}",
                f'curve = "{b.curve}"',
            ]
            if b.channel is not None:
                lines.append(f"channel = {b.channel}")
        for n in self.notes:
            lines += ["", "[[note]]", f"note = {n.note}", f'action = "{n.action}"']
            if n.channel is not None:
                lines.append(f"channel = {n.channel}")
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
        os.replace(tmp, path)

    def bind_cc(self, control: int, channel: int | None, setting: str) -> CcBinding:
        """Bind a controller to a setting over its whole range (replacing older bindings)."""
        _, _, lo, hi, _ = _numeric_setting(setting)
        binding = CcBinding(control, setting, lo, hi, "linear", channel)
        self.cc = [b for b in self.cc if (b.control, b.channel) != (control, channel)]
        self.cc.append(binding)
        return binding

    def bind_note(self, note: int, channel: int | None, action: str) -> NoteBinding:
        """Bind a note to an action (replacing older bindings)."""
        binding = NoteBinding(note, action, channel)
        self.notes = [n for n in self.notes if (n.note, n.channel) != (note, channel)]
        self.notes.append(binding)
        return binding

    def command(self, message: Any, class_names: Sequence[str]) -> Command | None:
        """The command a mido message asks for, or None."""
        channel = getattr(message, "channel", 0) + 1
        if message.type == "control_change":
            for b in self.cc:
                if b.control == message.control and b.channel in (None, channel):
                    section, key, _, _, hint = _numeric_setting(b.setting)
                    value = b.value(message.value)
                    return SetSetting(section, key, round(value) if hint is int else value)
        elif message.type == "note_on" and message.velocity > 0:
            for n in self.notes:
                if n.note == message.note and n.channel in (None, channel):
                    return action_command(n.action, class_names)
        return None


class MidiControl:
    """Turns MIDI messages into commands, with learn mode (thread-safe).

    Parameters
    ----------
    mapping : MidiMapping
        The bindings.
    path : Path
        Where learned bindings are saved.
    send : callable
        Receives each command.
    class_names : sequence of str
        For category actions.
    """

    def __init__(
        self,
        mapping: MidiMapping,
        path: Path,
        *,
        send: Callable[[Command], None],
        class_names: Sequence[str],
    ) -> None:
        self.mapping = mapping
        self.path = path
        self._send = send
        self._names = class_names
        self._lock = threading.Lock()
        self.learning: str | None = None
        self.learned: list[CcBinding | NoteBinding] = []

    def learn(self, target: str) -> None:
        """Bind the next control moved to ``target`` (SECTION.KEY, or an action)."""
        if "." in target and ":" not in target:
            _numeric_setting(target)
        else:
            action_command(target, self._names)
        with self._lock:
            self.learning = target

    def handle(self, message: Any) -> None:
        """Handle one mido message (from the MIDI thread)."""
        with self._lock:
            target = self.learning
            if target is not None and self._learn(message, target):
                self.learning = None
                return
            command = self.mapping.command(message, self._names)
        if command is not None:
            self._send(command)

    def _learn(self, message: Any, target: str) -> bool:
        channel = getattr(message, "channel", 0) + 1
        is_setting = "." in target and ":" not in target
        if is_setting and message.type == "control_change":
            binding: CcBinding | NoteBinding = self.mapping.bind_cc(
                message.control, channel, target
            )
        elif not is_setting and message.type == "note_on" and message.velocity > 0:
            binding = self.mapping.bind_note(message.note, channel, target)
        else:
            return False
        self.learned.append(binding)
        try:
            self.mapping.save(self.path)
            log.info("MIDI learned: %s (saved to %s)", binding, self.path)
        except OSError as exc:
            log.warning("MIDI learned %s but could not save %s: %s", binding, self.path, exc)
        return True


#: mido's backend name for each MIDI system.
MIDI_SYSTEMS = {
    "alsa": "mido.backends.rtmidi/LINUX_ALSA",
    "jack": "mido.backends.rtmidi/UNIX_JACK",
}


def _systems(api: str) -> list[str]:
    if api != "auto":
        return [api]
    # ALSA's sequencer first where its device exists; JACK MIDI works without it.
    return ["alsa", "jack"] if Path("/dev/snd/seq").exists() else ["jack", "alsa"]


def midi_backend(api: str = "auto") -> tuple[Any, list[str]]:
    """The first MIDI system that answers, and the names of its inputs.

    Parameters
    ----------
    api : str
        ``auto`` (ALSA where its sequencer exists, then JACK), ``alsa`` or ``jack``.

    Returns
    -------
    backend, names
        A loaded mido backend and its input ports' names.

    Raises
    ------
    ConfigError
        One line when mido or python-rtmidi is not installed (the ``midi`` extra),
        or naming every MIDI system tried and why each failed.
    """
    try:
        import mido
    except ImportError:
        raise ConfigError("MIDI needs the 'midi' extra: pip install 'ganterp[midi]'") from None
    failures = []
    for system in _systems(api):
        try:
            with quiet_native_stderr():  # libjack prints its own lines when no server runs
                backend = mido.Backend(MIDI_SYSTEMS.get(system, "mido.backends.rtmidi"), load=True)
                names = list(backend.get_input_names())
        except Exception as exc:
            failures.append(f"{system.upper()}: {one_line(exc)}")
            continue
        return backend, names
    raise ConfigError(f"no MIDI system answers (tried {'; '.join(failures)})")


def list_midi_inputs(api: str = "auto") -> list[str]:
    """Names of the MIDI inputs (empty when MIDI is not available)."""
    try:
        return midi_backend(api)[1]
    except ConfigError:
        return []


class MidiIn:
    """An open MIDI input port feeding a :class:`MidiControl`.

    Parameters
    ----------
    port : str
        A substring of the port's name.
    control : MidiControl or None
        Where messages go (may be set after construction, before :meth:`start`).
    api : str
        ``auto``, ``alsa`` or ``jack``.

    Raises
    ------
    ConfigError
        No such port (the message lists those there are), or MIDI unavailable.
    """

    def __init__(self, port: str, control: MidiControl | None, *, api: str = "auto") -> None:
        backend, names = midi_backend(api)
        matches = [n for n in names if port.lower() in n.lower()]
        if not matches:
            listing = ", ".join(names) if names else "none"
            raise ConfigError(f"no MIDI input matches '{port}' (inputs: {listing})")
        self.name = matches[0]
        self.control = control
        self._backend = backend
        self._port: Any = None

    def start(self) -> None:
        """Open the port; messages arrive on rtmidi's thread."""
        self._port = self._backend.open_input(self.name, callback=self._safe)

    def _safe(self, message: Any) -> None:
        try:
            if self.control is not None:
                self.control.handle(message)
        except Exception as exc:  # a bad message never ends MIDI input
            log.warning("MIDI message %s not handled: %s", message, exc)

    def stop(self) -> None:
        """Close the port."""
        if self._port is not None:
            self._port.close()
            self._port = None
