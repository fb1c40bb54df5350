"""The live show: threads wired together and the display loop on the main thread.

::

    audio callback ─copy─▶ ring ─▶ control thread (analysis, commands, trajectory)
                                         │ newest generator inputs
                                   generator thread ─▶ newest keyframe
                                         │
    main thread: keys → commands, compositor (cross-fade), HUD, window, recorder tap
"""

from __future__ import annotations

import logging
import statistics
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from live.analysis.analyzer import Analyzer
from live.analysis.features import Event
from live.audio.source import AudioSource
from live.control.fade import SettingsFade
from live.control.tap import TapClock
from live.control.watch import file_stamp
from live.core.clock import Clock
from live.core.commands import (
    Blackout,
    Command,
    Freeze,
    LoadPreset,
    LoadPresetSlot,
    MidiLearn,
    ReleaseTempo,
    SavePreset,
    SetSetting,
    ShowHud,
    TapTempo,
)
from live.core.slots import DropQueue, LatestSlot
from live.core.stats import LogOnce, RateMeter
from live.display.compositor import Compositor, Keyframe
from live.display.effects import FrameDelay, PostEffects
from live.display.hud import HudModel
from live.display.window import (
    Display,
    NextMidiLearn,
    Quit,
    ToggleBlackout,
    ToggleFreeze,
    ToggleFullscreen,
    ToggleHud,
)
from live.engine.workers import ControlLoop, ControlState, GeneratorWorker
from live.record import Recorder, RecordReport
from live.settings.layers import live_changes
from live.settings.presets import save_preset
from live.settings.schema import Config
from live.trajectory import GenTarget, Trajectory
from models.base import Generator
from models.classes import short_name

log = logging.getLogger("ganterp.show")

#: How long a beat or inflection flash lasts on the HUD, seconds.
FLASH_S = 0.25

#: Shortest time between two frames shown before their tick because a keyframe
#: answering a command was ready, seconds: a pad hit is shown at once, a fader's
#: stream of commands at the display's own pace.
EARLY_FRAME_GAP_S = 0.25


@dataclass
class _Flashes:
    """When the HUD last saw a beat and an inflection (main thread only)."""

    beats: int = 0
    inflections: int = 0
    beat_at: float = -1e9
    inflection_at: float = -1e9

    def update(self, beats: int, inflections: int, now: float) -> None:
        if beats != self.beats:
            self.beats, self.beat_at = beats, now
        if inflections != self.inflections:
            self.inflections, self.inflection_at = inflections, now


@dataclass(frozen=True)
class Presented:
    """One presented frame, for latency measurements.

    Attributes
    ----------
    time_s : float
        Clock time it was presented, s.
    keyframe : int
        Index of the newest keyframe in it (0: the opening picture, -1: none).
    weight : float
        That keyframe's share of the picture.
    onsets : int
        Onsets the trajectory had seen when that keyframe's inputs were made.
    frame : int
        Audio frame up to which those inputs had analysed.
    category : int
        The category that keyframe was painted towards (-1: none).
    """

    time_s: float
    keyframe: int
    weight: float
    onsets: int
    frame: int
    category: int = -1


@dataclass
class ShowReport:
    """What happened during a show."""

    seconds: float = 0.0
    frames_presented: int = 0
    display_fps: float = 0.0
    keyframes: int = 0
    keyframes_cancelled: int = 0
    keyframes_per_s: float = 0.0
    generate_ms_median: float = 0.0
    generate_ms_p95: float = 0.0
    generator_errors: int = 0
    generator: str = ""
    generator_warnings: list[str] = field(default_factory=list)
    control_errors: int = 0
    analysis_load: float = 0.0
    overflows: int = 0
    ring_dropped: int = 0
    events_dropped: int = 0
    display_errors: int = 0
    onsets: int = 0
    beats: int = 0
    inflections: int = 0
    source_state: str = ""
    recording: RecordReport | None = None
    record_error: str = ""
    warnings: list[str] = field(default_factory=list)
    trace: list[Presented] = field(default_factory=list)


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


class Show:
    """A running show.

    Parameters
    ----------
    config : Config
        The settings.
    source : AudioSource
        Where the sound comes from (not yet started).
    generator : Generator
        What paints.
    display : Display
        Where frames go.
    clock : Clock
        Time source for every part.
    categories : list of int
        Class indices for the trajectory (empty: a seeded bank).
    recorder_factory : callable, optional
        Makes the :class:`Recorder` once the source's ring exists.
    apply_preset : callable, optional
        ``(name) -> Config`` for a preset name; the show applies its live settings.
    trace : bool
        Keep a record of every presented frame (for latency measurements).
    stop_when : callable, optional
        Extra end condition, checked every frame.
    """

    def __init__(
        self,
        config: Config,
        *,
        source: AudioSource,
        generator: Generator,
        display: Display,
        clock: Clock,
        categories: list[int] | None = None,
        recorder_factory: Callable[[AudioSource], Recorder] | None = None,
        apply_preset: Callable[[str], Config] | None = None,
        trace: bool = False,
        stop_when: Callable[[], bool] | None = None,
        surfaces: Callable[[Show], list[Any]] | None = None,
    ) -> None:
        self.config = config
        self.source = source
        self.generator = generator
        self.display = display
        self.clock = clock
        self.trace = trace
        self.stop_when = stop_when
        self.class_names = tuple(short_name(n) for n in generator.class_names)
        self.log_once = LogOnce(log, clock, config.show.log_interval_s)
        self.commands: DropQueue[Command] = DropQueue(256)
        # Commands for the display itself (blackout), applied on the main thread.
        self._display_commands: DropQueue[Command] = DropQueue(64)
        # Analysis events for a reader that wants them (measurements; OSC out later).
        # Without one, nothing is queued, so no drop is counted for nobody.
        wants_events = trace or bool(config.control.osc_out)
        self.events: DropQueue[Event] | None = DropQueue(4096) if wants_events else None
        self._surfaces_factory = surfaces
        self.tap = TapClock()
        self._fade: SettingsFade | None = None
        self.midi_control: Any = None  # set by a MIDI surface (learn mode)
        self.active_preset: tuple[str, Path, tuple[int, int] | None] | None = None
        self.surfaces: list[Any] = []
        self.targets: LatestSlot[GenTarget] = LatestSlot()
        self.frames: LatestSlot[Keyframe] = LatestSlot()
        self.state: LatestSlot[ControlState] = LatestSlot()
        self.trajectory = Trajectory(
            config.trajectory,
            z_dim=generator.z_dim,
            num_classes=generator.num_classes,
            categories=categories or [],
        )
        self._recorder_factory = recorder_factory
        self._apply_preset = apply_preset
        self.recorder: Recorder | None = None
        d = config.display
        self.effects = PostEffects(d.brightness, d.contrast, d.hue_shift_deg)
        self.delay = FrameDelay(d.visual_delay_ms / 1000.0)
        self.compositor = Compositor(
            (generator.resolution, generator.resolution),
            crossfade=d.crossfade,
            blackout_fade_s=d.blackout_s,
            lead_s=1.0 / d.fps,
            effects=self.effects,
        )
        self.hud_on = config.display.hud
        self._quit = threading.Event()
        # Wakes the display loop before its next tick: quit, or a command's keyframe.
        self._wake = threading.Event()
        self._blackout = False
        self.report = ShowReport()
        self.display_rate = RateMeter(clock, window_s=1.0)
        self._last_version = 0
        self._started_at: float | None = None
        self._ended_at: float | None = None

    # -- public ---------------------------------------------------------------------------
    def send(self, command: Command) -> None:
        """Queue a command (thread-safe; from keys, OSC, MIDI, tests)."""
        if isinstance(command, TapTempo) and command.at < 0:
            command = TapTempo(self.clock.now())  # the moment of the tap, not of its handling
        if isinstance(command, Blackout | ShowHud):
            self._display_commands.put(command)
        else:
            self.commands.put(command)
            control = getattr(self, "control", None)
            if control is not None:
                control.wake()

    def quit(self) -> None:
        """Ask the show to end after the current frame (thread-safe)."""
        self._quit.set()
        self._wake.set()

    def run(self) -> ShowReport:
        """Run until quit, ``show.seconds``, or the end of a file input; return the report."""
        cfg = self.config
        ring = self.source.ring
        analyzer = Analyzer(ring.sample_rate, cfg.analysis, cfg.inflection)
        self.analyzer = analyzer
        self.control = ControlLoop(
            reader=ring.reader(),
            analyzer=analyzer,
            trajectory=self.trajectory,
            commands=self.commands,
            targets=self.targets,
            state=self.state,
            events=self.events,
            clock=self.clock,
            period_s=cfg.analysis.hops_per_wake * analyzer.hop / analyzer.analysis_rate,
            log_once=self.log_once,
            apply_command=self._apply_command,
            beats=self.tap.filter,
            tick=self._tick,
        )
        self.worker = GeneratorWorker(
            generator=self.generator,
            targets=self.targets,
            frames=self.frames,
            clock=self.clock,
            log_once=self.log_once,
            on_command_keyframe=self._wake.set,
        )
        try:
            if self._recorder_factory is not None:
                self.recorder = self._recorder_factory(self.source)
            self._first_keyframe()
            # The sound starts with the picture, so a recording's first frame and
            # first sample are the same moment.
            self.source.start()
            self.control.start()
            self.worker.start()
            if self._surfaces_factory is not None:
                self.surfaces = self._surfaces_factory(self)
                for surface in self.surfaces:
                    surface.start()
            self._loop()
        finally:
            self._shutdown()
        return self.report

    def _first_keyframe(self) -> None:
        """Paint the opening picture before the clock starts, so no frame is blank."""
        target = self.trajectory.step([])
        self.targets.put(target)
        try:
            image = self.worker.render(target)
        except Exception as exc:  # the worker will report and retry
            self.log_once("generator", f"generator failed on the first frame: {exc!r}")
            return
        self.compositor.push(
            Keyframe(
                image=image, target=target, ready_s=self.clock.now(), generate_ms=0.0, index=0
            ),
            self.clock.now() - 1.0,
        )

    # -- commands that belong to the show rather than the trajectory ------------------------
    def _apply_command(self, command: Command) -> bool:
        """Handle presets and settings on the control thread; True when handled here."""
        if isinstance(command, SetSetting):
            self._set_setting(command)
            return True
        if isinstance(command, TapTempo):
            ring = self.source.ring
            self.tap.tap(ring.frame_at(command.at) / ring.sample_rate)
            return True
        if isinstance(command, ReleaseTempo):
            self.tap.release()
            return True
        if isinstance(command, SavePreset):
            self._save_preset(command.name)
            return True
        if isinstance(command, MidiLearn):
            if self.midi_control is None:
                self.log_once("midi", "MIDI learn: this show has no MIDI control")
            else:
                try:
                    self.midi_control.learn(command.target)
                except Exception as exc:
                    self.log_once("midi", f"MIDI learn '{command.target}': {exc}")
            return True
        name: str | None = None
        if isinstance(command, LoadPresetSlot):
            slots = self.config.show.presets
            if not 1 <= command.slot <= len(slots):
                self.log_once(
                    "preset-slot",
                    f"no preset in slot {command.slot} (show.presets has {len(slots)})",
                )
                return True
            name = slots[command.slot - 1]
        elif isinstance(command, LoadPreset):
            name = command.name
        if name is None:
            return False
        if self._apply_preset is None:
            self.log_once("preset", "presets are not available in this show")
            return True
        fresh = isinstance(command, LoadPreset) and command.reload
        try:
            new = self._apply_preset(name, fresh=fresh) if fresh else self._apply_preset(name)
        except Exception as exc:  # a broken preset file changes nothing
            self.log_once("preset", f"preset '{name}' not applied: {exc}")
            return True
        path_of = getattr(self._apply_preset, "path", None)
        try:
            path = path_of(name) if path_of is not None else None
        except Exception:
            path = None
        # The file as it was read, for the watcher to notice the next edit.
        self.active_preset = (name, path, file_stamp(path)) if path is not None else None
        # Glide from where the show is to the preset, in trajectory space.
        self._fade = SettingsFade(
            self.config, new, at=self.clock.now(), duration_s=new.show.preset_fade_s
        )
        self._tick()
        log.info("preset '%s' %s", name, "reloaded" if fresh else "applied")
        return True

    def _tick(self) -> bool:
        """Advance a preset glide (control thread, every step); True when it moved."""
        if self._fade is None:
            return False
        now = self.clock.now()
        self._adopt(self._fade.config(now))
        if self._fade.alpha(now) >= 1.0:
            self._fade = None
        return True

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
        self._adopt(new)

    def _adopt(self, new: Config) -> None:
        """Make new live settings take effect (control thread)."""
        self.config = new
        self.trajectory.set_settings(new.trajectory)
        self.analyzer.apply_settings(new.analysis)
        if new.inflection != self.analyzer.inflection_settings:
            self.analyzer.apply_inflection_settings(new.inflection)
        d = new.display
        self.compositor.crossfade = d.crossfade
        self.compositor.blackout_fade_s = d.blackout_s
        self.effects.set(d.brightness, d.contrast, d.hue_shift_deg)
        self.delay.delay_s = d.visual_delay_ms / 1000.0

    # -- the display loop -------------------------------------------------------------------
    def _handle(self, action: object) -> None:
        if isinstance(action, Quit):
            self.quit()
        elif isinstance(action, ToggleHud):
            self.hud_on = not self.hud_on
        elif isinstance(action, ToggleFullscreen):
            toggle = getattr(self.display, "toggle_fullscreen", None)
            if toggle is not None:
                toggle()
        elif isinstance(action, ToggleBlackout):
            self._handle(Blackout(not self._blackout))
        elif isinstance(action, ToggleFreeze):
            self.send(Freeze(not self._frozen()))
        elif isinstance(action, NextMidiLearn):
            current = self.midi_control.learning if self.midi_control is not None else None
            i = LEARNABLE.index(current) + 1 if current in LEARNABLE else 0
            self.send(MidiLearn(LEARNABLE[i % len(LEARNABLE)]))
        elif isinstance(action, Blackout):
            self._blackout = action.on
            self.compositor.set_blackout(action.on)
        elif isinstance(action, ShowHud):
            self.hud_on = action.on
        else:
            self.send(action)  # type: ignore[arg-type]

    def _frozen(self) -> bool:
        """Whether the trajectory holds the picture (as the control thread last said)."""
        state, _ = self.state.get()
        return bool(state is not None and state.target is not None and state.target.frozen)

    def _loop(self) -> None:
        cfg = self.config
        period = 1.0 / cfg.display.fps
        start = self.clock.now()
        next_frame = start
        beats_and_inflections = _Flashes()
        finished_at: float | None = None
        early_at = -EARLY_FRAME_GAP_S
        if self.recorder is not None:
            self.recorder.begin(start)
        self._started_at = start
        while not self._quit.is_set():
            now = self.clock.now()
            presented = now
            try:
                presented = self._frame(now, beats_and_inflections)
            except Exception as exc:  # a bad frame must not end the show
                self.report.display_errors += 1
                self.log_once("display", f"display error (last frame kept): {exc!r}")
            # End conditions.
            elapsed = presented - start
            if cfg.show.seconds and elapsed >= cfg.show.seconds:
                break
            if self.source.finished:
                finished_at = presented if finished_at is None else finished_at
                if presented - finished_at > 0.2:  # let the last sound reach the picture
                    break
            if self.stop_when is not None and self.stop_when():
                break
            next_frame += period
            delay = next_frame - self.clock.now()
            # A frame or two late: the next ones go out at once and the rate holds.
            # Far behind (a stall): start the schedule afresh rather than rush.
            if delay <= 0:
                self._wake.clear()  # the next frame goes now: it shows the newest keyframe
                if delay < -4 * period:
                    next_frame = self.clock.now()
            elif self._wake.wait(delay):
                self._wake.clear()
                now = self.clock.now()
                if now - early_at >= EARLY_FRAME_GAP_S:
                    # A keyframe answering a command is ready: show it now rather than
                    # at the next tick, yet no sooner than half a period after the last
                    # frame, and count the ticks from there.
                    self._quit.wait(max(0.0, presented + period / 2 - now))
                    early_at = next_frame = self.clock.now()
                else:  # a stream of commands (a fader) goes at the display's pace
                    self._quit.wait(max(0.0, next_frame - now))
        self._ended_at = self.clock.now()
        self.report.seconds = self._ended_at - start
        if self.recorder is not None:
            self.recorder.stop_at(self._ended_at)  # before the threads are joined

    def _frame(self, now: float, flashes: _Flashes) -> float:
        """Show one frame; return the clock time it was presented."""
        for action in self.display.poll():
            self._handle(action)
        for command in self._display_commands.drain():
            self._handle(command)
        keyframe, version = self.frames.get()
        if keyframe is not None and version != self._last_version:
            self.compositor.push(keyframe, now)
            self._last_version = version
        composite = self.compositor.frame(now)
        state, _ = self.state.get()
        target = state.target if state is not None else None
        if target is not None:
            flashes.update(target.beats, target.inflections, now)
        hud = None
        if self.hud_on:
            hud = self._hud(state, now - flashes.beat_at, now - flashes.inflection_at)
        picture = composite.image
        # The screen may be delayed to meet late sound; the recording keeps its own sync.
        self.display.present(self.delay.push(now, picture), hud)
        presented = self.clock.now()
        self.display_rate.tick()
        self.report.frames_presented += 1
        if self.recorder is not None:
            self.recorder.offer(presented, picture)
        if self.trace:
            kf = composite.keyframe
            self.report.trace.append(
                Presented(
                    time_s=presented,
                    keyframe=kf.index if kf else -1,
                    weight=composite.weight,
                    onsets=kf.target.onsets if kf else 0,
                    frame=kf.target.frame if kf else 0,
                    category=kf.target.category if kf else -1,
                )
            )
        return presented

    def _hud(
        self, state: ControlState | None, since_beat: float, since_inflection: float
    ) -> HudModel:
        names = self.class_names
        f = state.features if state is not None else None
        t = state.target if state is not None else None
        src = self.source.status()
        warnings = []
        if src.state not in ("running", "ended"):
            warnings.append(
                f"input {src.state}: {src.message}" if src.message else f"input {src.state}"
            )
        stats = self.worker.stats
        if stats.errors:
            warnings.append(f"generator errors {stats.errors}: {stats.last_error[:60]}")
        if state is not None and state.errors:
            warnings.append(f"control-loop errors {state.errors}")
        if self.recorder is not None and self.recorder.dropped:
            warnings.append(f"recording dropped {self.recorder.dropped} frames")
        if self._blackout:
            warnings.append("blackout (B)")
        if t is not None and t.frozen:
            warnings.append("frozen (P)")
        if self.report.display_errors:
            warnings.append(f"display errors {self.report.display_errors}")
        learning = self.midi_control.learning if self.midi_control is not None else None
        if learning:
            warnings.append(f"MIDI learn: {learning} - move a control (L: next setting)")
        # Fallbacks the generator took (a slower engine, a smaller model): the latest two.
        warnings.extend(self.generator.warnings[-2:])
        ring_dropped = state.ring_dropped if state is not None else 0
        counters = f"overflows {src.overflows}  audio drops {ring_dropped}"
        if state is not None and state.events_dropped:
            counters += f"  events dropped {state.events_dropped}"
        times = list(stats.times_ms)
        return HudModel(
            display_fps=self.display_rate.rate(),
            keyframes_per_s=self.worker.rate.rate(),
            generate_ms=statistics.median(times) if times else 0.0,
            rms_db=f.rms_db if f else -120.0,
            level=f.level if f else 0.0,
            bands=f.bands if f else (0.0, 0.0, 0.0),
            bpm=f.bpm if f else 0.0,
            beat_flash=max(0.0, 1.0 - since_beat / FLASH_S),
            inflection_flash=max(0.0, 1.0 - since_inflection / (3 * FLASH_S)),
            curve=f.curve if f else 0.0,
            threshold=self.config.inflection.absolute_threshold,
            current=names[t.category] if t else "",
            upcoming=names[t.upcoming] if t else "",
            alpha=t.alpha if t else 0.0,
            inflections=t.inflections if t else 0,
            counters=counters,
            source=f"{self.source.label} - {src.state}",
            warnings=tuple(warnings),
            generator=self.generator.status,
        )

    # -- shutting down ----------------------------------------------------------------------
    def status(self) -> list[Any]:
        """The show's state as OSC arguments (thread-safe; for ``/ganterp/status``).

        Returns
        -------
        list
            Category index and name, next category's name, tempo (BPM),
            inflections so far, frozen, blackout and HUD (0 or 1).
        """
        state, _ = self.state.get()
        t = state.target if state is not None else None
        f = state.features if state is not None else None
        return [
            int(t.category) if t else -1,
            self.class_names[t.category] if t else "",
            self.class_names[t.upcoming] if t else "",
            float(f.bpm) if f else 0.0,
            int(t.inflections) if t else 0,
            int(bool(t and t.frozen)),
            int(self._blackout),
            int(self.hud_on),
        ]

    def level_state(self) -> tuple[float, float, float, float, int, str] | None:
        """Level, band levels (0-1), category index and name, for OSC out (thread-safe)."""
        state, _ = self.state.get()
        if state is None or state.target is None:
            return None
        f, t = state.features, state.target
        low, mid, high = f.bands if f else (0.0, 0.0, 0.0)
        return (f.level if f else 0.0, low, mid, high, t.category, self.class_names[t.category])

    def _shutdown(self) -> None:
        for surface in self.surfaces:
            try:
                surface.stop()
            except Exception as exc:
                log.warning("could not stop %s: %s", type(surface).__name__, exc)
        if self._started_at is not None and self._ended_at is None:  # interrupted (Ctrl-C)
            self._ended_at = self.clock.now()
            self.report.seconds = self._ended_at - self._started_at
            if self.recorder is not None:
                self.recorder.stop_at(self._ended_at)
        for part in ("control", "worker"):
            thread = getattr(self, part, None)
            if thread is not None:
                thread.stop()
        if self.recorder is not None:
            if self._started_at is None:  # the show never started: no empty file
                self.recorder.abort()
            else:
                try:
                    self.report.recording = self.recorder.close(self._ended_at)
                except Exception as exc:
                    self.report.record_error = str(exc)
        self.source.stop()
        self.display.close()
        self._fill_report()

    def _fill_report(self) -> None:
        r = self.report
        r.display_fps = r.frames_presented / r.seconds if r.seconds > 0 else 0.0
        worker = getattr(self, "worker", None)
        if worker is not None:
            times = list(worker.stats.times_ms)
            r.keyframes = worker.stats.keyframes
            r.keyframes_cancelled = worker.stats.cancelled
            r.keyframes_per_s = r.keyframes / r.seconds if r.seconds > 0 else 0.0
            if times:
                r.generate_ms_median = float(np.median(times))
                r.generate_ms_p95 = float(np.percentile(times, 95))
            r.generator_errors = worker.stats.errors
        r.generator = self.generator.status
        r.generator_warnings = list(self.generator.warnings)
        state, _ = self.state.get()
        if state is not None:
            r.control_errors = state.errors
            r.analysis_load = state.load
            r.ring_dropped = state.ring_dropped
            r.events_dropped = state.events_dropped
            if state.target is not None:
                r.onsets = state.target.onsets
                r.beats = state.target.beats
                r.inflections = state.target.inflections
        status = self.source.status()
        r.overflows = status.overflows
        r.source_state = status.state
