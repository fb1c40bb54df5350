"""The control thread: analysis, commands and the trajectory, on a steady pace.

It reads the newest audio, turns it into features and events, lets the
trajectory move, and publishes the newest generator inputs into a newest-wins
slot; it never waits on the generator. A failure is counted, logged once in a
while, shown, and survived.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from ganterp.live.analysis.analyzer import Analyzer
from ganterp.live.analysis.features import AudioFeatures, Event, Inflection
from ganterp.live.audio.ring import RingReader
from ganterp.live.core.clock import Clock
from ganterp.live.core.commands import Command, repaints
from ganterp.live.core.slots import DropQueue, LatestSlot
from ganterp.live.core.stats import LogOnce
from ganterp.live.trajectory import GenTarget, Trajectory

log = logging.getLogger("ganterp.control")

BeatFilter = Callable[
    [Sequence[AudioFeatures], Sequence[Event]], tuple[list[AudioFeatures], list[Event]]
]
"""Replaces beats in a step's hops and events (tap tempo)."""


@dataclass(frozen=True)
class ControlState:
    """What the control loop knows, for the HUD and the report.

    Attributes
    ----------
    features : AudioFeatures or None
        The newest hop's features.
    target : GenTarget or None
        The newest generator inputs.
    last_inflection_s : float or None
        Audio time of the newest inflection (it was decided a look-ahead later), s.
    ring_dropped : int
        Audio frames the analysis lost by falling behind.
    events_dropped : int
        Events dropped because nobody read them in time.
    commands_dropped : int
        Commands dropped because too many arrived at once.
    load : float
        Share of real time the control loop spends working, [0, 1+].
    errors : int
        Exceptions caught in the control loop.
    """

    features: AudioFeatures | None
    target: GenTarget | None
    last_inflection_s: float | None
    ring_dropped: int
    events_dropped: int
    commands_dropped: int
    load: float
    errors: int


class ControlLoop:
    """Reads audio, analyses it, applies commands, advances the trajectory.

    Parameters
    ----------
    reader : RingReader
        This loop's position in the source's ring.
    analyzer : Analyzer
        The analysis.
    trajectory : Trajectory
        The trajectory.
    commands : DropQueue of Command
        Commands from keys, OSC, MIDI and presets.
    targets : LatestSlot of GenTarget
        Where the generator inputs go.
    state : LatestSlot of ControlState
        Where the HUD's snapshot goes.
    events : DropQueue of Event, optional
        Where analysis events go, for a reader that wants them (None: nowhere).
    clock : Clock
        Time source.
    period_s : float
        Time between two wake-ups, seconds (``analysis.hops_per_wake`` hops).
    apply_command : callable, optional
        Handles commands that are not the trajectory's (presets); returns True if it did.
    log_once : LogOnce
        Rate-limited logger.
    """

    def __init__(
        self,
        *,
        reader: RingReader,
        analyzer: Analyzer,
        trajectory: Trajectory,
        commands: DropQueue[Command],
        targets: LatestSlot[GenTarget],
        state: LatestSlot[ControlState],
        events: DropQueue[Event] | None,
        clock: Clock,
        period_s: float,
        log_once: LogOnce,
        apply_command: Callable[[Command], bool] | None = None,
        beats: BeatFilter | None = None,
        tick: Callable[[], bool] | None = None,
    ) -> None:
        self.beats = beats
        self.tick = tick
        self._wake = threading.Event()
        self.reader = reader
        self.analyzer = analyzer
        self.trajectory = trajectory
        self.commands = commands
        self.targets = targets
        self.state = state
        self.events = events
        self.clock = clock
        self.period_s = float(period_s)
        self.log_once = log_once
        self.apply_command = apply_command
        self.errors = 0
        self.busy_s = 0.0
        self.audio_s = 0.0
        self.command_steps = 0
        self._last_inflection: float | None = None
        self._last_features: AudioFeatures | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ganterp-control", daemon=True)

    def start(self) -> None:
        """Start the thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread and wait for it."""
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5.0)

    def _run(self) -> None:
        next_wake = self.clock.now()
        while not self._stop.is_set():
            try:
                self.step()
            except Exception as exc:  # a bad hop must not end the show
                self.errors += 1
                self.log_once(
                    "control",
                    f"control loop error (analysis or trajectory; show continues): {exc!r}",
                )
            next_wake += self.period_s
            delay = next_wake - self.clock.now()
            if delay < -self.period_s:  # fell behind: do not try to catch up in a burst
                next_wake = self.clock.now()
                delay = 0.0
            if delay > 0 and self._wake.wait(delay):
                self._wake.clear()  # a command arrived: act on it now, not at the next tick
                next_wake = self.clock.now()

    def wake(self) -> None:
        """Run a step now (a command is waiting); thread-safe."""
        self._wake.set()

    def step(self) -> GenTarget | None:
        """Process the audio that arrived since the last step (one wake-up's work)."""
        t0 = time.perf_counter()
        start, block = self.reader.read()
        features: list[AudioFeatures] = []
        events: list[Event] = []
        if block.shape[0]:
            features, events = self.analyzer.process(block, start)
            self.audio_s += block.shape[0] / self.analyzer.sample_rate
        applied = repaint = False
        for command in self.commands.drain():
            # One bad command is logged and dropped; it never costs the analysis.
            try:
                if self.apply_command is None or not self.apply_command(command):
                    self.trajectory.apply(command)
                applied = True
                repaint = repaint or repaints(command)
            except Exception as exc:
                self.log_once("command", f"command {command!r} not applied: {exc}")
        if repaint:
            self.command_steps += 1
        if self.tick is not None:  # glides (preset cross-fades) move on
            try:
                applied = bool(self.tick()) or applied
            except Exception as exc:
                self.log_once("tick", f"settings glide failed: {exc!r}")
        if self.beats is not None:  # tapped beats replace the tracker's
            features, events = self.beats(features, events)
        target = None
        previous, version = self.targets.get()
        if features or applied or version == 0:
            target = replace(self.trajectory.step(features, events), commands=self.command_steps)
            # While the picture is frozen, its inputs do not change: do not make the
            # generator paint the same picture again and again.
            if not (target.frozen and previous is not None and previous.frozen):
                self.targets.put(target)
        if features:
            self._last_features = features[-1]
        for event in events:
            if self.events is not None:
                self.events.put(event)
            if isinstance(event, Inflection):
                self._last_inflection = event.time_s
        busy = time.perf_counter() - t0
        self.busy_s += busy
        self.state.put(
            ControlState(
                features=self._last_features,
                target=target if target is not None else self.targets.get()[0],
                last_inflection_s=self._last_inflection,
                ring_dropped=self.reader.dropped,
                events_dropped=self.events.dropped if self.events is not None else 0,
                commands_dropped=self.commands.dropped,
                load=self.busy_s / self.audio_s if self.audio_s > 0 else 0.0,
                errors=self.errors,
            )
        )
        return target
