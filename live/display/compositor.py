"""From keyframes to the frame on screen: cross-fade by time, blackout fade.

The generator delivers keyframes at its own rate; the display asks for a frame
at its own rate. The compositor fades from whatever was on screen when a
keyframe arrived to that keyframe, over the expected time to the next one, so
the picture keeps moving smoothly when the generator is slower than the
display, and never waits for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ganterp.live.display.effects import PostEffects

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
    """A frame to show and its provenance.

    Attributes
    ----------
    image : np.ndarray, shape (H, W, 3), uint8
        The picture (do not modify: it may be shared with the compositor).
    keyframe : Keyframe or None
        The newest keyframe contributing to it.
    weight : float
        That keyframe's share of the picture, [0, 1].
    """

    image: np.ndarray
    keyframe: Keyframe | None
    weight: float


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
        self._last_out = self._previous
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
            self._previous = self._last_out
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
        if cur is None:
            out = self._previous
            weight = 0.0
        else:
            progress = now - self._start + self.lead_s
            weight = 1.0 if self._fade <= 0 else min(1.0, max(0.0, progress / self._fade))
            if weight >= 1.0:
                out = cur.image
            else:
                w = round(weight * 256)
                out = (
                    (self._previous.astype(np.uint16) * (256 - w) + cur.image.astype(np.uint16) * w)
                    >> 8
                ).astype(np.uint8)
        # The next cross-fade starts from the picture itself, not its dimmed copy.
        self._last_out = out
        if self.effects is not None:
            out = self.effects.apply(out)  # before the blackout, so black stays black
        if self._black > 0:
            keep = round((1.0 - self._black) * 256)
            out = ((out.astype(np.uint16) * keep) >> 8).astype(np.uint8)
        return Composite(image=out, keyframe=cur, weight=weight)

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
