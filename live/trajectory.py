"""The path through the generator's inputs that the music draws.

Pure and clock-driven: :meth:`Trajectory.step` takes the analysis features and
events of the newest hops plus the commands received, and returns the
generator's next inputs. The same sequence of inputs always gives the same
sequence of outputs, live, offline and in tests.

Rules (differences from the original GANterpretations are deliberate):

* Categories: segment ``k`` (between inflection ``k`` and ``k + 1``) has
  category ``k`` of the list as its destination (``class_policy =
  "segments"``), or the 12 pitch classes of the sound weight 12 categories of
  the list, rotated by one at each inflection (``"chroma"``). The show opens on
  category 0 and stays on it until the first inflection. At each inflection the
  class vector morphs from wherever it is (mid-morph included: no snap-back)
  towards the next destination.
* The inflection is seen when it happens (``inflection_step``): ``burst`` makes
  ``step_amount`` of the morph within ``step_s`` and kicks z's speed, then
  settles; ``cut`` goes to the destination at once; ``glide`` only morphs. A
  segment longer than ``max_segment_s`` moves on to the next category anyway.
* Morph speed: the morph advances by ``dt / morph_s`` times the music's
  activity (below), so it moves fast where the music is busy (the original's
  rule, made causal), with a floor so that every change completes.
* z: one truncated-normal sample for the whole show (``constant``, the
  original's code), or a new one at each inflection morphed like the class
  (``per-inflection``, the original's paper). On top, the music sets z's
  *speed* along a smooth path that never repeats: the spectral flux (over
  its running mean, in running spreads) drives it, onsets and beats kick it,
  and it never stops while there is sound (``drift``) and slows to a calm
  crawl in silence (``silence_speed``). The level also pushes z along one
  direction (``breathe``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from ganterp.live.analysis.features import AudioFeatures, Beat, Event, Inflection, Onset
from ganterp.live.core.commands import (
    Command,
    Freeze,
    JumpToCategory,
    NextCategory,
    PreviousCategory,
    ReseedZ,
    SetCategories,
)
from ganterp.live.settings.schema import TrajectorySettings

#: Fastest morph, as a multiple of the average speed.
MAX_SPEED = 4.0
#: Smoothing of the level before it moves z, seconds.
LEVEL_SMOOTHING_S = 0.06
#: Smoothing of the speed that the flux and level set, seconds: short, because any
#: lag here is lag between the sound and the picture.
DRIVE_SMOOTHING_S = 0.02
#: The flux of typical music (the analysis's units; about -20 dBFS): where the flux
#: reference starts.
FLUX_TYPICAL = 0.1
#: The flux reference is the running mean and spread of the log flux over the sound
#: heard, at most this long (s), starting from the typical value (with a spread of
#: one) weighted as :data:`FLUX_PRIOR_S` of sound: within seconds a quiet input moves
#: about as much as typical music, and a loud part after a quiet intro moves faster
#: until the reference has heard enough of it.
FLUX_ADAPT_S = 120.0
FLUX_PRIOR_S = 5.0
#: The reference stays within this factor of the typical value either way.
FLUX_ADAPT_RANGE = 30.0
#: Smallest spread of the log flux that the drive divides by, so that a very steady
#: input does not turn its smallest changes into leaps.
FLUX_MIN_SPREAD = 0.2
#: The drive's exponent saturates softly at this many spreads either way.
DRIVE_LIMIT = 1.5
#: Time constant of the average of the music's own speed that silence crawls at a
#: part of, seconds (it starts at the typical speed, 1).
HEARD_SPEED_S = 10.0
#: The unit level (see ``analysis.level_floor_db``) of typical music.
LEVEL_TYPICAL = 0.65
#: A kick multiplies at least this much speed (units of the typical activity's), so
#: that a beat between sparse sounds is seen too.
KICK_FLOOR = 0.25
#: Time constant of the pitch classes' running average ('chroma' policy), s.
CHROMA_AVERAGE_S = 30.0
#: Level under which the sound counts as silence, and over which as present, dBFS.
SILENT_DB = -55.0
PRESENT_DB = -40.0
#: Directions of audio motion in z besides the path: the level's.
MOTION_DIRECTIONS = 1
#: The path: every unit of z swings around its base value at its own rate (drawn
#: from this range per unit of distance) and phase, with this amplitude, so the
#: path uses every direction and does not repeat, and the picture's change per
#: unit of distance evens out over the units.
PATH_RATE_RANGE = (0.5, 1.5)
PATH_AMPLITUDE = 0.6
#: Norm of each motion direction relative to sqrt(z_dim): an amount of 1 moves z
#: by a quarter of a typical latent vector's length.
DIRECTION_SCALE = 0.25
#: Sharpening of the pitch-class weights ('chroma' policy): the weights' power.
CHROMA_SHARPNESS = 3.0


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
        :func:`ganterp.live.core.commands.repaints`); stamped by the control loop. A
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
        Speeds, amounts, truncation, policies and seed.
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
        self._step_left = 0.0  # part of the morph a burst still has to make
        self._segment_s = 0.0  # time since the present segment began
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
        path_rng = np.random.default_rng([settings.seed, 3])
        self._path_rates = path_rng.uniform(*PATH_RATE_RANGE, self.z_dim)
        self._path_phases = path_rng.uniform(0.0, 2.0 * math.pi, self.z_dim)
        # One unit of distance moves z by one direction's length (rms over the path).
        rms_speed = PATH_AMPLITUDE * math.sqrt(0.5 * float(np.sum(self._path_rates**2)))
        self._path_norm = DIRECTION_SCALE * math.sqrt(self.z_dim) / rms_speed
        self._distance = 0.0
        self._drive = 0.0
        self._log_flux_ref = math.log(FLUX_TYPICAL)
        self._log_flux_var = 1.0  # spread of the log flux, squared
        self._heard_s = 0.0  # time with sound present, for the flux reference's warm-up
        self._heard_speed = 1.0  # the music's own speed, averaged while there is sound
        self._onset_env = 0.0
        self._beat_env = 0.0
        self._burst_env = 0.0
        self._level = 0.0
        self._chroma = np.zeros(12)
        self._chroma_avg = np.zeros(12)
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
        """The category being morphed to (the present segment's; 'chroma': the strongest)."""
        if self.settings.class_policy == "chroma" and self._chroma.any():
            return int(np.argmax(self._destination()))
        return self._target

    @property
    def distance(self) -> float:
        """Distance z has travelled along its path, in units of one motion direction's length."""
        return self._distance

    @property
    def upcoming(self) -> int:
        """The category the next inflection brings."""
        return self.categories[(self.segment + 1) % len(self.categories)]

    def _chroma_weights(self) -> np.ndarray:
        """The 12 pitch classes' weights: over their running average, sharpened, summing to 1."""
        relative = self._chroma / (self._chroma_avg + 1e-3)
        w = relative**CHROMA_SHARPNESS
        total = float(w.sum())
        return w / total if total > 0 else np.full(12, 1.0 / 12.0)

    def _destination(self) -> np.ndarray:
        """The class vector the present segment morphs to."""
        if self.settings.class_policy != "chroma" or not self._chroma.any():
            return self._onehot(self._target)
        # Pitch class c weights category (segment + c) of the list: the mapping turns by
        # one at each inflection. A jump pins pitch class 0's category to the jump's.
        n = len(self.categories)
        y = np.zeros(self.num_classes, dtype=np.float64)
        base = self.categories.index(self._target) if self._target in self.categories else None
        for c, w in enumerate(self._chroma_weights().tolist()):
            if base is None and c == 0:
                y[self._target] += w
            else:
                start = self.segment if base is None else base
                y[self.categories[(start + c) % n]] += w
        return y

    def _class_vector(self) -> np.ndarray:
        return (1.0 - self.alpha) * self._from_y + self.alpha * self._destination()

    def _base_z(self) -> np.ndarray:
        a = self._z_alpha
        return (1.0 - a) * self._z_from + a * self._z_to

    def _start_morph(self, segment: int, target: int | None = None, *, step: str = "") -> None:
        """Morph from the present class vector to ``target`` (default: ``segment``'s).

        ``step`` is the inflection step to make ('glide', 'cut' or 'burst'); empty
        for a plain glide (the segment timer, a new category list).
        """
        y = self._class_vector()
        self._from_y = y
        self._source = int(np.argmax(y))
        self.segment = segment
        self._target = self.categories[segment % len(self.categories)] if target is None else target
        self.alpha = 0.0
        self._segment_s = 0.0
        self._step_left = 0.0
        if self.settings.z_policy == "per-inflection":
            self._new_z()
        s = self.settings
        if step == "cut":
            self.alpha = 1.0
            self._z_alpha = 1.0
            self._distance += s.motion_speed * s.burst_speed * s.step_s / 3.0
        elif step == "burst":
            self._step_left = s.step_amount
            self._burst_env = 1.0

    def _new_z(self) -> None:
        self._z_from = self._base_z()
        self._z_to = truncated_normal(self._z_rng, self.z_dim)
        self._z_alpha = 0.0

    # -- the step -----------------------------------------------------------------------
    def apply(self, command: Command) -> None:
        """Apply one command (the only place commands change the trajectory)."""
        step = self.settings.inflection_step  # a category command is seen like an inflection
        if isinstance(command, NextCategory):
            self._start_morph(self.segment + 1, step=step)
        elif isinstance(command, PreviousCategory):
            self._start_morph(max(self.segment - 1, 0), step=step)
        elif isinstance(command, JumpToCategory):
            # This segment goes to the given class; the list carries on after it.
            self._start_morph(self.segment, self._checked([command.index])[0], step=step)
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

    def _advance(self, f: AudioFeatures, dt: float) -> None:
        """Integrate one hop of ``dt`` seconds."""
        s = self.settings
        self._segment_s += dt
        if s.max_segment_s > 0 and self._segment_s >= s.max_segment_s:
            self._start_morph(self.segment + 1)
        # The music's activity: how many spreads the flux is over its running mean
        # (log scale), exponentially, blended with the level by level_weight.
        present = min(1.0, max(0.0, (f.rms_db - SILENT_DB) / (PRESENT_DB - SILENT_DB)))
        log_flux = math.log(max(f.flux, 1e-9))
        if present >= 1.0 and f.flux > 0:
            self._heard_s += dt
            lo = math.log(FLUX_TYPICAL / FLUX_ADAPT_RANGE)
            hi = math.log(FLUX_TYPICAL * FLUX_ADAPT_RANGE)
            target = min(hi, max(lo, log_flux))
            k = min(1.0, dt / min(FLUX_ADAPT_S, FLUX_PRIOR_S + self._heard_s))
            self._log_flux_ref += (target - self._log_flux_ref) * k
            self._log_flux_var += ((target - self._log_flux_ref) ** 2 - self._log_flux_var) * k
        self._drive += (present * self._activity(log_flux, f.level) - self._drive) * min(
            1.0, dt / DRIVE_SMOOTHING_S
        )
        # z's speed: the activity, kicked by onsets and beats in proportion, and bursts.
        pulse = math.exp(-math.log(3.0) * dt / s.pulse_decay_s)
        self._onset_env = 1.0 if f.onset else self._onset_env * pulse
        self._beat_env = 1.0 if f.beat else self._beat_env * pulse
        settle = 1.0 - math.exp(-3.0 * dt / s.step_s)
        self._burst_env *= 1.0 - settle
        # Silence crawls at silence_speed of what the sound before it moved, so a calm
        # piece's pauses are as calm, next to its music, as a loud piece's.
        calm = s.silence_speed * self._heard_speed
        floor = calm + (s.drift - calm) * present
        own = floor + self._drive
        if present >= 1.0:
            self._heard_speed += (own - self._heard_speed) * min(1.0, dt / HEARD_SPEED_S)
        kick = s.onset_pulse * self._onset_env + s.beat_pulse * self._beat_env
        music = own + max(own, KICK_FLOOR) * kick
        velocity = s.motion_speed * (music + s.burst_speed * self._burst_env)
        # Morph: as fast as the music moves z, plus what a burst still has to make, so
        # that the change of category follows the music as the motion does.
        speed = min(MAX_SPEED, max(s.min_morph_speed * present, music)) / s.morph_s
        burst_part = self._step_left * settle
        self._step_left -= burst_part
        self.alpha = min(1.0, self.alpha + speed * dt + burst_part)
        self._z_alpha = min(1.0, self._z_alpha + speed * dt + burst_part)
        self._distance += velocity * dt
        self._level += (f.level - self._level) * min(1.0, dt / LEVEL_SMOOTHING_S)
        if f.chroma and f.level > 0.0 and any(f.chroma):
            c = np.asarray(f.chroma, dtype=np.float64)
            k = min(1.0, dt / s.chroma_smoothing_s)
            self._chroma = c if not self._chroma.any() else self._chroma + (c - self._chroma) * k
            avg_k = min(1.0, dt / max(CHROMA_AVERAGE_S, s.chroma_smoothing_s))
            self._chroma_avg = (
                c.copy()
                if not self._chroma_avg.any()
                else self._chroma_avg + (c - self._chroma_avg) * avg_k
            )

    def _activity(self, log_flux: float, level: float) -> float:
        """The music's drive of one hop, about 1 on average over music.

        ``exp(contrast * d)`` with ``d`` the log flux's distance from its running mean
        in running spreads (saturating softly at :data:`DRIVE_LIMIT`), blended with
        the unit level by ``level_weight``.
        """
        s = self.settings
        spread = max(math.sqrt(self._log_flux_var), FLUX_MIN_SPREAD)
        d = (log_flux - self._log_flux_ref) / spread
        gain = s.contrast
        # exp(gain**2 / 5) is about the mean of exp(gain * d) over music: the average
        # drive stays near 1 whatever the contrast.
        flux_part = math.exp(gain * DRIVE_LIMIT * math.tanh(d / DRIVE_LIMIT) - gain**2 / 5.0)
        return (1.0 - s.level_weight) * flux_part + s.level_weight * level / LEVEL_TYPICAL

    def _path(self) -> np.ndarray:
        """The offset of z along the path at the distance travelled."""
        u = self._distance * self._path_norm
        phases = self._path_phases
        return PATH_AMPLITUDE * (np.sin(self._path_rates * u + phases) - np.sin(phases))

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
                self._start_morph(self.segment + 1, step=s.inflection_step)
        for f in features:
            dt = 0.0 if self._time < 0 else max(0.0, f.time_s - self._time)
            self._time = f.time_s
            self._frame = f.frame
            if not self.frozen:
                self._advance(f, dt)
        if self.frozen and self._last is not None:
            self._last = replace(self._last, time_s=self._time, frame=self._frame, frozen=True)
            return self._last
        motion = s.breathe * self._level * self._dirs[0] + self._path()
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
