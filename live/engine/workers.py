"""The show's two worker threads: control (analysis + trajectory) and generator.

Neither ever waits on the other: the control loop publishes the newest
generator inputs into a newest-wins slot, the generator worker renders the
newest it finds and publishes keyframes into another. A failure in either is
counted, logged once in a while, shown, and survived.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import partial

import numpy as np
import torch

from live.analysis.analyzer import Analyzer
from live.analysis.features import AudioFeatures, Event, Inflection
from live.audio.ring import RingReader
from live.core.clock import Clock
from live.core.commands import Command, repaints
from live.core.slots import DropQueue, LatestSlot
from live.core.stats import LogOnce, RateMeter
from live.display.compositor import Keyframe
from live.trajectory import GenTarget, Trajectory
from models.base import CancelCheck, Cancelled, Generator

log = logging.getLogger("ganterp.engine")

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


@dataclass
class GeneratorStats:
    """The generator worker's counters (read by the HUD and the report)."""

    keyframes: int = 0
    cancelled: int = 0
    errors: int = 0
    last_error: str = ""
    times_ms: deque[float] = field(default_factory=lambda: deque(maxlen=512))


def to_uint8_image(images: torch.Tensor) -> np.ndarray:
    """Convert a generator's output to displayable pixels.

    Parameters
    ----------
    images : torch.Tensor, shape (1, 3, H, W)
        Values in [-1, 1] (out-of-range values are clipped, NaN becomes black).

    Returns
    -------
    np.ndarray, shape (H, W, 3), uint8
    """
    x = torch.nan_to_num(images[0].float(), nan=-1.0, posinf=1.0, neginf=-1.0)
    x = ((x + 1.0) * 127.5).clamp_(0.0, 255.0).round_().to(torch.uint8)
    return x.permute(1, 2, 0).contiguous().cpu().numpy()


class GeneratorWorker:
    """Renders the newest generator inputs into keyframes, never blocking anyone.

    A keyframe in progress is dropped when a command makes it stale (a newer
    target with a higher ``commands`` count), so the change reaches the screen
    one keyframe after the command instead of up to two. Never twice in a row:
    a stream of commands (a MIDI fader) slows keyframes at most to half their
    rate and never stops them.

    Parameters
    ----------
    generator : Generator
        What paints.
    targets : LatestSlot of GenTarget
        Where the inputs come from.
    frames : LatestSlot of Keyframe
        Where keyframes go.
    clock : Clock
        Time source.
    log_once : LogOnce
        Rate-limited logger.
    retry_s : float
        Pause after a first failed call, seconds; it grows with each further
        failure in a row (x1.5), up to ``max_retry_s``.
    max_retry_s : float
        Longest pause between attempts, seconds.
    on_command_keyframe : callable, optional
        Called (on this thread) after publishing the first keyframe that shows
        a newer command, so the display can present it at once.
    """

    def __init__(
        self,
        *,
        generator: Generator,
        targets: LatestSlot[GenTarget],
        frames: LatestSlot[Keyframe],
        clock: Clock,
        log_once: LogOnce,
        retry_s: float = 0.05,
        max_retry_s: float = 1.0,
        on_command_keyframe: Callable[[], None] | None = None,
    ) -> None:
        self.on_command_keyframe = on_command_keyframe
        self._shown_commands = 0
        self.generator = generator
        self.targets = targets
        self.frames = frames
        self.clock = clock
        self.log_once = log_once
        self.retry_s = float(retry_s)
        self.max_retry_s = float(max_retry_s)
        self.stats = GeneratorStats()
        self.rate = RateMeter(clock, window_s=2.0)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ganterp-generator", daemon=True)

    def start(self) -> None:
        """Start the thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread and wait for it (a call in progress stops at its next check)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10.0)

    def render(self, target: GenTarget, cancel: CancelCheck | None = None) -> np.ndarray:
        """Generate one image for ``target`` (runs on the caller's thread).

        Raises
        ------
        Cancelled
            When ``cancel`` returned True during the call.
        """
        z = torch.from_numpy(np.ascontiguousarray(target.z, dtype=np.float32))[None]
        y = torch.from_numpy(np.ascontiguousarray(target.y, dtype=np.float32))[None]
        with torch.inference_mode():
            images = self.generator(z, y, float(target.truncation), cancel=cancel)
        return to_uint8_image(images)

    def stale(self, target: GenTarget) -> bool:
        """Whether a newer target carries commands that ``target`` does not (thread-safe)."""
        newest, _ = self.targets.get()
        return newest is not None and newest.commands > target.commands

    def _drop(self, target: GenTarget, may_drop_stale: bool) -> bool:
        """The cancel check of a call: the show is ending, or (if allowed) ``target`` is stale."""
        return self._stop.is_set() or (may_drop_stale and self.stale(target))

    def _run(self) -> None:
        version = 0
        failures = 0
        cancelled = False
        while not self._stop.is_set():
            target, new_version = self.targets.wait_newer(version, timeout=0.1)
            if target is None or new_version == version:
                continue
            version = new_version
            t0 = time.perf_counter()
            try:
                image = self.render(target, partial(self._drop, target, not cancelled))
            except Cancelled:
                if self._stop.is_set():
                    break
                self.stats.cancelled += 1
                cancelled = True
                continue
            except Exception as exc:  # keep the last frame up and carry on
                self.stats.errors += 1
                self.stats.last_error = f"{type(exc).__name__}: {exc}"
                self.log_once("generator", f"generator failed (last frame kept): {exc!r}")
                self._stop.wait(min(self.max_retry_s, self.retry_s * 1.5**failures))
                failures += 1
                continue
            failures = 0
            cancelled = False
            ms = (time.perf_counter() - t0) * 1000.0
            self.stats.keyframes += 1
            self.stats.times_ms.append(ms)
            self.rate.tick()
            self.frames.put(
                Keyframe(
                    image=image,
                    target=target,
                    ready_s=self.clock.now(),
                    generate_ms=ms,
                    index=self.stats.keyframes,
                )
            )
            if target.commands > self._shown_commands:
                self._shown_commands = target.commands
                if self.on_command_keyframe is not None:
                    self.on_command_keyframe()
