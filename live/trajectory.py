"""The path through the generator's inputs that the music draws.

Pure and clock-driven: :meth:`Trajectory.step` takes the analysis features and
events of the newest hops plus the commands received, and returns the
generator's next inputs. The same sequence of inputs always gives the same
sequence of outputs, live, offline and in tests.

Rules (differences from the original GANterpretations are deliberate):

* Categories: segment ``k`` (between inflection ``k`` and ``k + 1``) has
  category ``k`` of the list as its destination. The show opens on category 0
  and stays on it until the first inflection (the original showed it for about
  two frames). At each inflection the class vector morphs from wherever it is
  (mid-morph included: no snap-back) towards the next category.
* Speed: the morph advances by ``dt / morph_s`` times the smoothed spectral
  change over its running average, so it moves fast where the music changes
  much (the original's rule, made causal: it cannot know a segment's total
  change in advance), with a floor so that every change completes.
* z: one truncated-normal sample for the whole show (``constant``, the
  original's code), or a new one at each inflection morphed like the class
  (``per-inflection``, the original's paper). On top, audio motion: the level
  breathes along one direction, onsets and beats kick along others and decay,
  and a slow drift follows the spectral change.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from live.analysis.features import AudioFeatures, Beat, Event, Inflection, Onset
from live.control.commands import (
    Command,
    Freeze,
    JumpToCategory,
    NextCategory,
    PreviousCategory,
    ReseedZ,
    SetCategories,
)
from live.settings import TrajectorySettings

#: Time constant of the spectral change's running average, seconds.
CHANGE_AVERAGE_S = 20.0
#: Fastest morph, as a multiple of the average speed.
MAX_SPEED = 4.0
#: Smoothing of the level before it moves z, seconds.
LEVEL_SMOOTHING_S = 0.06
#: Directions of audio motion in z (level, onsets, beats, drift).
MOTION_DIRECTIONS = 7
#: Norm of each motion direction relative to sqrt(z_dim): an amount of 1 moves z
#: by a quarter of a typical latent vector's length.
DIRECTION_SCALE = 0.25


@dataclass(frozen=True)
class GenTarget:
    """The generator's inputs at one moment, and where they came from.

    Attributes
    ----------
    z : np.ndarray, shape (z_dim,), float32
        Latent vector, already scaled by the truncation.
    y : np.ndarray, shape (num_classes,), float32
        Class vector: a convex mix of one-hot vectors.
    truncation : float
        Truncation in (0, 1].
    time_s : float
        Audio-clock time of the newest analysed sample, s.
    frame : int
        Absolute index of the sample after the newest analysed one.
    source : int
        Class being morphed from (the dominant one of the starting mix).
    category : int
        Class being morphed to (this segment's category).
    upcoming : int
        The category the next inflection will bring.
    alpha : float
        Morph progress from ``source`` to ``category``, [0, 1].
    onsets, beats, inflections : int
        Counts seen so far (to trace a picture back to the sound that caused it).
    frozen : bool
        Whether the picture is held still.
    commands : int
        Control steps so far with an operator's command (keys, OSC, MIDI,
        presets) that changes these inputs at once (see
        :func:`live.control.commands.repaints`); stamped by the control loop. A
        newer target with a higher count makes a keyframe in progress stale.
    """

    z: np.ndarray
    y: np.ndarray
    truncation: float
    time_s: float
    frame: int
    source: int
    category: int
    upcoming: int
    alpha: float
    onsets: int
    beats: int
    inflections: int
    frozen: bool = False
    commands: int = 0


def truncated_normal(rng: np.random.Generator, size: int, bound: float = 2.0) -> np.ndarray:
    """Sample a standard normal truncated to ``[-bound, bound]`` by rejection.

    Parameters
    ----------
    rng : np.random.Generator
        The random source (advanced).
    size : int
        Number of values.
    bound : float
        Truncation bound in standard deviations.

    Returns
    -------
    np.ndarray, shape (size,), float64
    """
    out = rng.standard_normal(size)
    bad = np.abs(out) > bound
    while bad.any():
        out[bad] = rng.standard_normal(int(bad.sum()))
        bad = np.abs(out) > bound
    return out


def category_bank(seed: int, size: int, num_classes: int) -> list[int]:
    """Draw ``size`` distinct class indices from a seed."""
    rng = np.random.default_rng([seed, 1])
    return [int(i) for i in rng.choice(num_classes, size=min(size, num_classes), replace=False)]


class Trajectory:
    """The show's state machine from sound to generator inputs.

    Parameters
    ----------
    settings : TrajectorySettings
        Speeds, amounts, truncation, z policy and seed.
    z_dim : int
        Length of the generator's latent vector.
    num_classes : int
        Length of the generator's class vector.
    categories : sequence of int
        Class indices, one per segment, cycled; empty draws a seeded bank.
    """

    def __init__(
        self,
        settings: TrajectorySettings,
        *,
        z_dim: int,
        num_classes: int,
        categories: Sequence[int] = (),
    ) -> None:
        self.settings = settings
        self.z_dim = int(z_dim)
        self.num_classes = int(num_classes)
        self._z_rng = np.random.default_rng([settings.seed, 0])
        self.categories = self._checked(categories) or category_bank(
            settings.seed, settings.bank_size, num_classes
        )
        self.segment = 0
        first = self.categories[0]
        self._target = first
        self._from_y = self._onehot(first)
        self._source = first
        self.alpha = 1.0
        self._z_from = truncated_normal(self._z_rng, self.z_dim)
        self._z_to = self._z_from
        self._z_alpha = 1.0
        # Motion: fixed directions, drawn from the seed, orthonormal, then scaled.
        dir_rng = np.random.default_rng([settings.seed, 2])
        dirs = dir_rng.standard_normal((MOTION_DIRECTIONS, self.z_dim))
        if self.z_dim >= MOTION_DIRECTIONS:  # mutually orthogonal where there is room
            dirs = np.linalg.qr(dirs.T)[0].T
        dirs /= np.linalg.norm(dirs, axis=1, keepdims=True)
        self._dirs = dirs * (DIRECTION_SCALE * math.sqrt(self.z_dim))
        self._onset_env = 0.0
        self._beat_env = 0.0
        self._level = 0.0
        self._change_avg = 0.0
        self._drift_phase = 0.0
        self._time = -1.0
        self._frame = 0
        self._onsets = 0
        self._beats = 0
        self._inflections = 0
        self.frozen = False
        self._last: GenTarget | None = None

    # -- helpers -----------------------------------------------------------------------
    def _checked(self, categories: Sequence[int]) -> list[int]:
        out = [int(c) for c in categories]
        for c in out:
            if not 0 <= c < self.num_classes:
                raise ValueError(f"category {c} is outside 0..{self.num_classes - 1}")
        return out

    def _onehot(self, index: int) -> np.ndarray:
        y = np.zeros(self.num_classes, dtype=np.float64)
        y[index] = 1.0
        return y

    @property
    def category(self) -> int:
        """The category being morphed to (the present segment's)."""
        return self._target

    @property
    def upcoming(self) -> int:
        """The category the next inflection brings."""
        return self.categories[(self.segment + 1) % len(self.categories)]

    def _class_vector(self) -> np.ndarray:
        return (1.0 - self.alpha) * self._from_y + self.alpha * self._onehot(self.category)

    def _base_z(self) -> np.ndarray:
        a = self._z_alpha
        return (1.0 - a) * self._z_from + a * self._z_to

    def _start_morph(self, segment: int, target: int | None = None) -> None:
        """Morph from the present class vector to ``target`` (default: ``segment``'s)."""
        y = self._class_vector()
        self._from_y = y
        self._source = int(np.argmax(y))
        self.segment = segment
        self._target = self.categories[segment % len(self.categories)] if target is None else target
        self.alpha = 0.0
        if self.settings.z_policy == "per-inflection":
            self._new_z()

    def _new_z(self) -> None:
        self._z_from = self._base_z()
        self._z_to = truncated_normal(self._z_rng, self.z_dim)
        self._z_alpha = 0.0

    # -- the step -----------------------------------------------------------------------
    def apply(self, command: Command) -> None:
        """Apply one command (the only place commands change the trajectory)."""
        if isinstance(command, NextCategory):
            self._start_morph(self.segment + 1)
        elif isinstance(command, PreviousCategory):
            self._start_morph(max(self.segment - 1, 0))
        elif isinstance(command, JumpToCategory):
            # This segment goes to the given class; the list carries on after it.
            self._start_morph(self.segment, self._checked([command.index])[0])
        elif isinstance(command, SetCategories):
            indices = self._checked(command.indices)
            if indices:
                # The present morph carries on; the new list starts at the next inflection.
                self.categories = indices
                self.segment = -1
        elif isinstance(command, ReseedZ):
            self._new_z()
        elif isinstance(command, Freeze):
            self.frozen = command.on

    def set_settings(self, settings: TrajectorySettings) -> None:
        """Take new speeds and amounts (a preset); the position is kept."""
        self.settings = settings

    def step(
        self,
        features: Sequence[AudioFeatures],
        events: Sequence[Event] = (),
        commands: Sequence[Command] = (),
    ) -> GenTarget:
        """Advance through newly analysed hops and return the generator's inputs.

        Parameters
        ----------
        features : sequence of AudioFeatures
            The hops analysed since the last step, oldest first (may be empty).
        events : sequence of Onset, Beat, Inflection
            The events found in them.
        commands : sequence of Command
            Commands received since the last step, applied first.

        Returns
        -------
        GenTarget
            The inputs for the newest moment.
        """
        for command in commands:
            self.apply(command)
        s = self.settings
        n_inflections = sum(isinstance(e, Inflection) for e in events)
        for e in events:
            if isinstance(e, Onset):
                self._onsets += 1
            elif isinstance(e, Beat):
                self._beats += 1
        # Each inflection starts the next segment before the hops are integrated
        # (their decision came with these hops).
        for _ in range(n_inflections):
            self._inflections += 1
            if not self.frozen:
                self._start_morph(self.segment + 1)
        pulse_k = math.log(3.0) / s.pulse_decay_s
        for f in features:
            dt = 0.0 if self._time < 0 else max(0.0, f.time_s - self._time)
            self._time = f.time_s
            self._frame = f.frame
            if self.frozen:
                continue
            # Running average of the change (fast start: the first seconds count fully).
            tau = min(CHANGE_AVERAGE_S, max(f.time_s, 1e-3))
            self._change_avg += (f.curve - self._change_avg) * min(1.0, dt / tau)
            ratio = f.curve / self._change_avg if self._change_avg > 1e-9 else 0.0
            speed = min(MAX_SPEED, max(s.min_morph_speed, ratio)) / s.morph_s
            self.alpha = min(1.0, self.alpha + speed * dt)
            self._z_alpha = min(1.0, self._z_alpha + speed * dt)
            decay = math.exp(-pulse_k * dt)
            self._onset_env = 1.0 if f.onset else self._onset_env * decay
            self._beat_env = 1.0 if f.beat else self._beat_env * decay
            self._level += (f.level - self._level) * min(1.0, dt / LEVEL_SMOOTHING_S)
            self._drift_phase += dt * (0.05 + 0.5 * f.curve) * 2.0 * math.pi
        if self.frozen and self._last is not None:
            self._last = replace(self._last, time_s=self._time, frame=self._frame, frozen=True)
            return self._last
        d = self._dirs
        onset_dir = d[1] if self._onsets % 2 else d[2]
        beat_dir = d[3] if self._beats % 2 else d[4]
        motion = (
            s.breathe * self._level * d[0]
            + s.onset_pulse * self._onset_env * onset_dir
            + s.beat_pulse * self._beat_env * beat_dir
            + s.drift * (math.cos(self._drift_phase) * d[5] + math.sin(self._drift_phase) * d[6])
        )
        z = s.truncation * np.clip(self._base_z() + motion, -2.0, 2.0)
        self._last = GenTarget(
            z=z.astype(np.float32),
            y=self._class_vector().astype(np.float32),
            truncation=s.truncation,
            time_s=max(self._time, 0.0),
            frame=self._frame,
            source=self._source,
            category=self.category,
            upcoming=self.upcoming,
            alpha=self.alpha,
            onsets=self._onsets,
            beats=self._beats,
            inflections=self._inflections,
            frozen=self.frozen,
        )
        return self._last
