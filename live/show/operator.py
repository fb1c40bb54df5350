"""The operator's commands that belong to the show rather than the trajectory.

Settings changes, presets (loaded into a glide from where the show stands),
preset slots and saving, tap tempo and MIDI learn. Everything here runs on the
control thread, between two analysis steps, so a change never lands in the
middle of one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from ganterp.live.control.fade import SettingsFade
from ganterp.live.control.tap import TapClock
from ganterp.live.control.watch import file_stamp
from ganterp.live.core.clock import Clock
from ganterp.live.core.commands import (
    Command,
    LoadPreset,
    LoadPresetSlot,
    MidiLearn,
    ReleaseTempo,
    SavePreset,
    SetSetting,
    TapTempo,
)
from ganterp.live.core.stats import LogOnce
from ganterp.live.settings.layers import live_changes
from ganterp.live.settings.presets import save_preset
from ganterp.live.settings.schema import Config

log = logging.getLogger("ganterp.show")

#: Settings the L key offers for MIDI learn, in turn.
LEARNABLE = (
    "trajectory.truncation",
    "trajectory.morph_s",
    "trajectory.breathe",
    "trajectory.onset_pulse",
    "trajectory.beat_pulse",
    "trajectory.drift",
    "display.brightness",
    "display.contrast",
    "display.hue_shift_deg",
    "inflection.threshold",
)


class PresetSource(Protocol):
    """Where presets come from: ``(name, fresh=False) -> Config``, and optionally ``path(name)``."""

    def __call__(self, name: str, fresh: bool = False) -> Config:
        """Return the settings of preset ``name`` (``fresh``: read its file again)."""
        ...


def next_learnable(current: str | None) -> str:
    """The setting MIDI learn moves to after ``current`` (the first one after none)."""
    i = LEARNABLE.index(current) + 1 if current in LEARNABLE else 0
    return LEARNABLE[i % len(LEARNABLE)]


class Operator:
    """Applies settings, presets, tap tempo and MIDI learn (control thread).

    Parameters
    ----------
    config : Config
        The show's settings when it starts.
    clock : Clock
        Time source (a preset glide runs on it).
    log_once : LogOnce
        Where a refused command is reported.
    adopt : callable
        ``(Config) -> None``: makes new live settings take effect in the show.
    tap_time : callable
        ``(clock seconds) -> audio seconds``: where a tap falls in the input.
    presets : PresetSource, optional
        Where preset names are looked up (None: presets are not available).
    start_preset : str
        Name of the preset the settings were started with ('' for none).
    """

    def __init__(
        self,
        config: Config,
        *,
        clock: Clock,
        log_once: LogOnce,
        adopt: Callable[[Config], None],
        tap_time: Callable[[float], float],
        presets: PresetSource | None = None,
        start_preset: str = "",
    ) -> None:
        self.config = config
        self.clock = clock
        self.log_once = log_once
        self.tap = TapClock()
        self.midi_control: Any = None  # set by a MIDI surface (learn mode)
        self.active_preset: tuple[str, Path, tuple[int, int] | None] | None = None
        #: Name of the preset in use: the start-up one until another is applied.
        self.preset_name = start_preset
        self._adopt = adopt
        self._tap_time = tap_time
        self._presets = presets
        self._fade: SettingsFade | None = None

    @property
    def learning(self) -> str | None:
        """The setting MIDI learn waits to bind, if any."""
        return self.midi_control.learning if self.midi_control is not None else None

    def handle(self, command: Command) -> bool:
        """Apply ``command`` if it is one of the operator's; True when it was.

        Parameters
        ----------
        command : Command
            Any command; those of the trajectory are left alone (False).
        """
        if isinstance(command, SetSetting):
            self._set_setting(command)
        elif isinstance(command, TapTempo):
            self.tap.tap(self._tap_time(command.at))
        elif isinstance(command, ReleaseTempo):
            self.tap.release()
        elif isinstance(command, SavePreset):
            self._save_preset(command.name)
        elif isinstance(command, MidiLearn):
            self._learn(command.target)
        elif isinstance(command, LoadPresetSlot):
            slots = self.config.show.presets
            if not 1 <= command.slot <= len(slots):
                self.log_once(
                    "preset-slot",
                    f"no preset in slot {command.slot} (show.presets has {len(slots)})",
                )
            else:
                self._load_preset(slots[command.slot - 1], fresh=False)
        elif isinstance(command, LoadPreset):
            self._load_preset(command.name, fresh=command.reload)
        else:
            return False
        return True

    def tick(self) -> bool:
        """Advance a preset glide (every control step); True when it moved."""
        if self._fade is None:
            return False
        now = self.clock.now()
        self._set(self._fade.config(now))
        if self._fade.alpha(now) >= 1.0:
            self._fade = None
        return True

    # -- the commands ---------------------------------------------------------------------
    def _set(self, new: Config) -> None:
        self.config = new
        self._adopt(new)

    def _learn(self, target: str) -> None:
        if self.midi_control is None:
            self.log_once("midi", "MIDI learn: this show has no MIDI control")
            return
        try:
            self.midi_control.learn(target)
        except Exception as exc:
            self.log_once("midi", f"MIDI learn '{target}': {exc}")

    def _load_preset(self, name: str, *, fresh: bool) -> None:
        if self._presets is None:
            self.log_once("preset", "presets are not available in this show")
            return
        try:
            new = self._presets(name, fresh=fresh) if fresh else self._presets(name)
        except Exception as exc:  # a broken preset file changes nothing
            self.log_once("preset", f"preset '{name}' not applied: {exc}")
            return
        path_of = getattr(self._presets, "path", None)
        try:
            path = path_of(name) if path_of is not None else None
        except Exception:
            path = None
        # The file as it was read, for the watcher to notice the next edit.
        self.active_preset = (name, path, file_stamp(path)) if path is not None else None
        self.preset_name = name
        # Glide from where the show is to the preset, in trajectory space.
        self._fade = SettingsFade(
            self.config, new, at=self.clock.now(), duration_s=new.show.preset_fade_s
        )
        self.tick()
        log.info("preset '%s' %s", name, "reloaded" if fresh else "applied")

    def _save_preset(self, name: str) -> None:
        try:
            path = save_preset(self._fade.end if self._fade else self.config, name)
        except Exception as exc:
            self.log_once("preset-save", f"preset '{name}' not saved: {exc}")
            return
        log.info("preset '%s' saved to %s", name, path)

    def _set_setting(self, command: SetSetting) -> None:
        try:
            new, ignored = live_changes(
                self.config, {command.section: {command.key: command.value}}, origin="a command"
            )
        except Exception as exc:  # an invalid value changes nothing
            self.log_once("set", f"{command.section}.{command.key} not changed: {exc}")
            return
        if ignored:
            self.log_once("set", f"{', '.join(ignored)} cannot change during a show")
            return
        self._fade = None  # a hand on a control ends a glide where it is
        self._set(new)
