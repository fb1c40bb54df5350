"""From keyframes to the frame on screen: cross-fade by time, blackout fade.

The generator delivers keyframes at its own rate; the display asks for a frame
at its own rate. The compositor fades from whatever was on screen when a
keyframe arrived to that keyframe, over the expected time to the next one, so
the picture keeps moving smoothly when the generator is slower than the
display, and never waits for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from ganterp.live.display.effects import ColourMatrix, PostEffects

#: Longest cross-fade, seconds: a slow generator is not hidden beyond this.
MAX_FADE_S = 0.5


@dataclass(frozen=True)
class Keyframe:
    """One generated image and what made it.

    Attributes
    ----------
    image : np.ndarray, shape (H, W, 3), uint8
        The picture.
    target : Any
        The generator inputs it was made from (a :class:`ganterp.live.trajectory.GenTarget`).
    ready_s : float
        Clock time at which it was ready, seconds.
    generate_ms : float
        Time the generator took, milliseconds.
    index : int
        Sequence number, from 1.
    """

    image: np.ndarray
    target: Any
    ready_s: float
    generate_ms: float
    index: int


@dataclass(frozen=True)
class Composite:
    """A frame to show, as the recipe for its pixels: two pictures, a fade, a colour, a dimming.

    A display that draws through the GPU uploads each picture once and mixes them
    there; :attr:`image` paints the same recipe on the CPU (and keeps the result).

    Attributes
    ----------
    previous : np.ndarray, shape (H, W, 3), uint8
        The picture fading out (what was on screen when the keyframe arrived).
    keyframe : Keyframe or None
        The newest keyframe, fading in (None before the first).
    weight : float
        That keyframe's share of the picture, [0, 1].
    colour : ColourMatrix or None
        Brightness, contrast and hue, applied after the fade (None: unchanged).
    black : float
        How far the blackout has faded the picture, [0, 1] (1 is black).
    """

    previous: np.ndarray
    keyframe: Keyframe | None
    weight: float
    colour: ColourMatrix | None = None
    black: float = 0.0

    @cached_property
    def mixed(self) -> np.ndarray:
        """The fade alone, shape (H, W, 3), uint8 (no colour, no blackout)."""
        kf = self.keyframe
        if kf is None:
            return self.previous
        return mix(self.previous, kf.image, self.weight)

    @cached_property
    def image(self) -> np.ndarray:
        """The finished picture, shape (H, W, 3), uint8 (do not modify: it may be shared)."""
        out = self.mixed
        if self.colour is not None:
            out = self.colour.apply(out)  # before the blackout, so black stays black
        if self.black > 0:
            keep = round((1.0 - self.black) * 256)
            out = ((out.astype(np.uint16) * keep) >> 8).astype(np.uint8)
        return out


def mix(a: np.ndarray, b: np.ndarray, weight: float) -> np.ndarray:
    """Cross-fade two pictures in 1/256 steps.

    Parameters
    ----------
    a, b : np.ndarray, shape (H, W, 3), uint8
        The picture fading out and the one fading in.
    weight : float
        ``b``'s share, [0, 1].

    Returns
    -------
    np.ndarray, shape (H, W, 3), uint8
        ``a`` or ``b`` itself at the ends, else a new array.
    """
    w = round(min(1.0, max(0.0, weight)) * 256)
    if w >= 256:
        return b
    if w <= 0:
        return a
    return ((a.astype(np.uint16) * (256 - w) + b.astype(np.uint16) * w) >> 8).astype(np.uint8)


class Compositor:
    """Blends keyframes by time.

    Parameters
    ----------
    size : tuple of int
        ``(height, width)`` of the frames, pixels.
    crossfade : bool
        Fade between keyframes (True) or cut (False).
    blackout_fade_s : float
        Time to fade to black and back, seconds.
    lead_s : float
        How far a fade has progressed on the first frame after a keyframe arrives,
        seconds: one display period, so that the first frame already shows it.
    effects : PostEffects, optional
        Brightness, contrast and hue, applied before the blackout.
    """

    def __init__(
        self,
        size: tuple[int, int],
        *,
        crossfade: bool = True,
        blackout_fade_s: float = 1.0,
        lead_s: float = 0.0,
        effects: PostEffects | None = None,
    ) -> None:
        self.size = size
        self.effects = effects
        self.lead_s = max(0.0, float(lead_s))
        self.crossfade = crossfade
        self.blackout_fade_s = max(float(blackout_fade_s), 1e-3)
        self._previous = np.zeros((*size, 3), dtype=np.uint8)
        self._current: Keyframe | None = None
        self._start = 0.0
        self._fade = 0.0
        self._interval = 0.1
        self._last_out: Composite | None = None
        self._black = 0.0
        self._black_target = 0.0
        self._black_time: float | None = None

    @property
    def current(self) -> Keyframe | None:
        """The newest keyframe."""
        return self._current

    def push(self, keyframe: Keyframe, now: float) -> None:
        """Start fading from what is on screen now to ``keyframe``."""
        if keyframe.image.shape[:2] != self.size:
            raise ValueError(f"keyframe size {keyframe.image.shape[:2]} is not {self.size}")
        if self._current is not None:
            gap = now - self._start
            # Expected time to the next keyframe: a smoothed inter-arrival time.
            self._interval += 0.3 * (min(max(gap, 0.0), MAX_FADE_S) - self._interval)
            if self._last_out is not None:
                self._previous = self._last_out.mixed
        self._current = keyframe
        self._start = now
        self._fade = min(self._interval, MAX_FADE_S) if self.crossfade else 0.0

    def set_blackout(self, on: bool) -> None:
        """Fade to black (True) or back to the picture (False)."""
        self._black_target = 1.0 if on else 0.0

    def frame(self, now: float) -> Composite:
        """Return the frame to show at clock time ``now`` (seconds)."""
        self._advance_blackout(now)
        cur = self._current
        weight = 0.0
        if cur is not None:
            progress = now - self._start + self.lead_s
            weight = 1.0 if self._fade <= 0 else min(1.0, max(0.0, progress / self._fade))
        colour = None
        if self.effects is not None and not self.effects.neutral:
            colour = self.effects.colour
        out = Composite(
            previous=self._previous, keyframe=cur, weight=weight, colour=colour, black=self._black
        )
        # The next cross-fade starts from the picture itself, not its dimmed copy;
        # its pixels are painted only if a keyframe arrives before the next frame.
        self._last_out = out
        return out

    def _advance_blackout(self, now: float) -> None:
        if self._black_time is None:
            self._black_time = now
        dt = max(0.0, now - self._black_time)
        self._black_time = now
        step = dt / self.blackout_fade_s
        if self._black < self._black_target:
            self._black = min(self._black_target, self._black + step)
        elif self._black > self._black_target:
            self._black = max(self._black_target, self._black - step)
