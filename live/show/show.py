"""The live show: threads wired together and the display loop on the main thread.

::

    audio callback ─copy─▶ ring ─▶ control thread (analysis, commands, trajectory)
                                         │ newest generator inputs
                                   generator thread ─▶ newest keyframe
                                         │
    main thread: keys → commands, compositor (cross-fade), HUD, window, sinks

Every shown frame is offered to each sink (the recorder, NDI, …), which paints
and sends it on its own thread: an output that is slow or fails never slows the show.

The operator's own commands live in :mod:`ganterp.live.show.operator`, what the HUD and
OSC see in :mod:`ganterp.live.show.views`, and the report in :mod:`ganterp.live.show.report`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ganterp.live.analysis.analyzer import Analyzer
from ganterp.live.analysis.features import Event
from ganterp.live.audio.source import AudioSource
from ganterp.live.core.clock import Clock
from ganterp.live.core.commands import Blackout, Command, Freeze, MidiLearn, ShowHud, TapTempo
from ganterp.live.core.slots import DropQueue, LatestSlot
from ganterp.live.core.stats import LogOnce, RateMeter
from ganterp.live.display.compositor import Composite, Compositor, Keyframe
from ganterp.live.display.effects import FrameDelay, PostEffects
from ganterp.live.display.hud import HudModel
from ganterp.live.display.window import (
    Display,
    NextMidiLearn,
    Quit,
    ToggleBlackout,
    ToggleFreeze,
    ToggleFullscreen,
    ToggleHud,
)
from ganterp.live.settings.schema import Config
from ganterp.live.show.control_loop import ControlLoop, ControlState
from ganterp.live.show.generator_worker import GeneratorWorker
from ganterp.live.show.operator import Operator, PresetSource, next_learnable
from ganterp.live.show.report import Presented, ShowReport
from ganterp.live.show.views import (
    Alerts,
    Flashes,
    TempoReadout,
    hud_model,
    osc_levels,
    osc_status,
)
from ganterp.live.trajectory import GenTarget, Trajectory
from ganterp.live.video.record import Recorder
from ganterp.live.video.sink import Sink
from ganterp.models.base import Generator
from ganterp.models.classes import short_name

log = logging.getLogger("ganterp.show")

#: Shortest time between two frames shown before their tick because a keyframe
#: answering a command was ready, seconds: a pad hit is shown at once, a fader's
#: stream of commands at the display's own pace.
EARLY_FRAME_GAP_S = 0.25

#: How often the HUD's contents are refreshed, 1/s: its meters still read as live,
#: and its panel is painted (and, on the GPU, uploaded) on a third of the frames at 60 fps.
HUD_REFRESH_HZ = 20.0


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
    sinks : callable, optional
        Makes the other outputs (NDI, …) once the source's ring exists; one that
        cannot be made is a warning and the show goes on without it.
    apply_preset : callable, optional
        ``(name) -> Config`` for a preset name; the show applies its live settings.
    trace : bool
        Keep a record of every presented frame (for latency measurements).
    stop_when : callable, optional
        Extra end condition, checked every frame.
    start_preset : str
        Name of the preset the settings were started with ('' for none), shown
        on the HUD until another preset is applied.
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
        sinks: Callable[[AudioSource], list[Sink]] | None = None,
        apply_preset: PresetSource | None = None,
        trace: bool = False,
        stop_when: Callable[[], bool] | None = None,
        surfaces: Callable[[Show], list[Any]] | None = None,
        start_preset: str = "",
    ) -> None:
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
        self.operator = Operator(
            config,
            clock=clock,
            log_once=self.log_once,
            adopt=self._adopt,
            tap_time=self._tap_time,
            presets=apply_preset,
            start_preset=start_preset,
        )
        self.surfaces: list[Any] = []
        #: Beats from an outside clock (MIDI clock), set by the surfaces; they win over taps.
        self.midi_clock: Any = None
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
        self._sinks_factory = sinks
        self.recorder: Recorder | None = None
        self.sinks: list[Sink] = []  # the recorder (if any) first
        d = config.display
        self.effects = PostEffects(d.brightness, d.contrast, d.hue_shift_deg)
        self.delay: FrameDelay[Composite] = FrameDelay(d.visual_delay_ms / 1000.0)
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
        self._tempo = TempoReadout()  # the HUD's (main thread only)
        self._hud_model: HudModel | None = None  # what the HUD shows, and since when
        self._hud_at = 0.0
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
            apply_command=self.operator.handle,
            beats=self._beats,
            tick=self.operator.tick,
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
                self.sinks.append(self.recorder)
            if self._sinks_factory is not None:
                self.sinks.extend(self._sinks_factory(self.source))
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

    # -- the operator's side --------------------------------------------------------------
    @property
    def config(self) -> Config:
        """The settings now in effect (they change with commands and preset glides)."""
        return self.operator.config

    @property
    def midi_control(self) -> Any:
        """The MIDI surface that learns mappings, if the show has one."""
        return self.operator.midi_control

    @midi_control.setter
    def midi_control(self, control: Any) -> None:
        self.operator.midi_control = control

    @property
    def active_preset(self) -> tuple[str, Path, tuple[int, int] | None] | None:
        """The preset last applied: name, file and the file's stamp when read."""
        return self.operator.active_preset

    def audio_now(self) -> float:
        """Where the input is now, audio seconds (for outside clocks' messages; any thread)."""
        return self._tap_time(self.clock.now())

    def _beats(self, features: list[Any], events: list[Event]) -> tuple[list[Any], list[Event]]:
        """Whose beats the hops carry: an outside clock's while it runs, else the taps'/tracker's."""
        clock = self.midi_clock
        if clock is not None:
            out = clock.filter(features, events)
            if out is not None:
                return out
        return self.operator.tap.filter(features, events)

    def _tap_time(self, at: float) -> float:
        """Where clock time ``at`` falls in the input, audio seconds."""
        ring = self.source.ring
        return ring.frame_at(at) / ring.sample_rate

    def _adopt(self, new: Config) -> None:
        """Make new live settings take effect (control thread)."""
        self.trajectory.set_settings(new.trajectory)
        self.analyzer.apply_settings(new.analysis)
        if new.inflection != self.analyzer.inflection_settings:
            self.analyzer.apply_inflection_settings(new.inflection)
        d = new.display
        self.compositor.crossfade = d.crossfade
        self.compositor.blackout_fade_s = d.blackout_s
        self.effects.set(d.brightness, d.contrast, d.hue_shift_deg)
        self.delay.delay_s = d.visual_delay_ms / 1000.0
        for sink in self.sinks:  # outputs switched by a setting (ndi.enabled, …)
            switch = getattr(sink, "switch", "")
            if switch:
                section, key = switch.split(".")
                sink.set_enabled(bool(getattr(getattr(new, section), key)))  # type: ignore[attr-defined]

    # -- the display loop -------------------------------------------------------------------
    def _handle(self, action: object) -> None:
        if isinstance(action, Quit):
            self.quit()
        elif isinstance(action, ToggleHud):
            self.hud_on = not self.hud_on
            self._hud_model = None
        elif isinstance(action, ToggleFullscreen):
            toggle = getattr(self.display, "toggle_fullscreen", None)
            if toggle is not None:
                toggle()
        elif isinstance(action, ToggleBlackout):
            self._handle(Blackout(not self._blackout))
        elif isinstance(action, ToggleFreeze):
            self.send(Freeze(not self._frozen()))
        elif isinstance(action, NextMidiLearn):
            self.send(MidiLearn(next_learnable(self.operator.learning)))
        elif isinstance(action, Blackout):
            self._blackout = action.on
            self.compositor.set_blackout(action.on)
        elif isinstance(action, ShowHud):
            self.hud_on = action.on
            self._hud_model = None
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
        flashes = Flashes()
        finished_at: float | None = None
        early_at = -EARLY_FRAME_GAP_S
        for sink in self.sinks:
            sink.begin(start)
        self._started_at = start
        while not self._quit.is_set():
            now = self.clock.now()
            presented = now
            try:
                presented = self._frame(now, flashes)
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
        for sink in self.sinks:
            sink.stop_at(self._ended_at)  # before the threads are joined

    def _frame(self, now: float, flashes: Flashes) -> float:
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
        flashes.update(state, now)
        hud = None
        if self.hud_on:
            if self._hud_model is None or now - self._hud_at >= 1.0 / HUD_REFRESH_HZ:
                self._hud_model, self._hud_at = self._hud(state, flashes, now), now
            hud = self._hud_model
        # The screen may be delayed to meet late sound; the recording keeps its own sync.
        self.display.present(self.delay.push(now, composite), hud)
        presented = self.clock.now()
        self.display_rate.tick()
        self.report.frames_presented += 1
        for sink in self.sinks:  # each paints the composite on its own thread, if at all
            try:
                sink.offer(presented, composite)
            except Exception as exc:  # an output's bug must not cost the show a frame
                self.log_once(f"sink {sink.name}", f"{sink.name}: cannot take frames: {exc!r}")
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

    def _hud(self, state: ControlState | None, flashes: Flashes, now: float) -> HudModel:
        stats = self.worker.stats
        target = state.target if state is not None else None
        alerts = Alerts(
            source=self.source.status(),
            generator_errors=stats.errors,
            last_generator_error=stats.last_error,
            recording_dropped=self.recorder.dropped if self.recorder is not None else 0,
            outputs=tuple(sink.status() for sink in self.sinks),
            blackout=self._blackout,
            frozen=bool(target is not None and target.frozen),
            display_errors=self.report.display_errors,
            learning=self.operator.learning,
            generator_warnings=self.generator.warnings,
            display_warnings=getattr(self.display, "warnings", ()),
        )
        return hud_model(
            state,
            class_names=self.class_names,
            alerts=alerts,
            flashes=flashes,
            now=now,
            display_fps=self.display_rate.rate(),
            keyframes_per_s=self.worker.rate.rate(),
            generate_times_ms=list(stats.times_ms),
            threshold=self.config.inflection.absolute_threshold,
            source_label=self.source.label,
            generator_status=self.generator.status,
            tempo=self._tempo,
            preset=self.operator.preset_name,
        )

    # -- views for OSC (any thread) ---------------------------------------------------------
    def status(self) -> list[Any]:
        """The show's state as OSC arguments (for ``/ganterp/status``); see :func:`osc_status`."""
        state, _ = self.state.get()
        return osc_status(
            state,
            self.class_names,
            blackout=self._blackout,
            hud=self.hud_on,
            outputs=[sink.status() for sink in self.sinks],
        )

    def level_state(self) -> tuple[float, float, float, float, int, str] | None:
        """Level, band levels (0-1), category index and name, for OSC out (thread-safe)."""
        state, _ = self.state.get()
        return osc_levels(state, self.class_names)

    # -- shutting down ----------------------------------------------------------------------
    def _shutdown(self) -> None:
        for surface in self.surfaces:
            try:
                surface.stop()
            except Exception as exc:
                log.warning("could not stop %s: %s", type(surface).__name__, exc)
        if self._started_at is not None and self._ended_at is None:  # interrupted (Ctrl-C)
            self._ended_at = self.clock.now()
            self.report.seconds = self._ended_at - self._started_at
            for sink in self.sinks:
                sink.stop_at(self._ended_at)
        for part in ("control", "worker"):
            thread = getattr(self, part, None)
            if thread is not None:
                thread.stop()
        for sink in self.sinks:
            if self._started_at is None:  # the show never started: no empty file
                sink.abort()
                continue
            try:
                result = sink.close(self._ended_at)
            except Exception as exc:
                if sink is self.recorder:
                    self.report.record_error = str(exc)
                else:
                    log.warning("could not close %s: %s", sink.name, exc)
                continue
            if sink is self.recorder:
                self.report.recording = result  # type: ignore[assignment]
            self.report.outputs.append(sink.status())
        self.source.stop()
        self.display.close()
        worker = getattr(self, "worker", None)
        state, _ = self.state.get()
        self.report.fill(
            generator=self.generator,
            stats=worker.stats if worker is not None else None,
            state=state,
            source=self.source.status(),
        )
