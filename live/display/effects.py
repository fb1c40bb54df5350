"""Picture adjustments on the way to the screen: brightness, contrast, hue, and a delay.

:class:`PostEffects` is a 3x4 colour matrix applied to each displayed frame
(identity costs nothing). :class:`FrameDelay` holds frames back by a set time,
to line the picture up with sound that reaches the audience later (a PA far
from the stage, a projector with less latency than the sound system).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import Generic, TypeVar

import numpy as np

# RGB <-> YIQ: hue turns the I/Q plane around the luma axis.
_RGB_TO_YIQ = np.array(
    [[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]], dtype=np.float64
)
_YIQ_TO_RGB = np.linalg.inv(_RGB_TO_YIQ)

T = TypeVar("T")


@dataclass(frozen=True, eq=False)
class ColourMatrix:
    """One set of adjustments as an affine colour map: ``out = rgb @ matrix + offset``.

    Attributes
    ----------
    matrix : np.ndarray, shape (3, 3), float32
        Applied to row vectors of 0-255 RGB values.
    offset : float
        Added to every channel afterwards, 0-255 units.
    """

    matrix: np.ndarray
    offset: float

    def apply(self, image: np.ndarray) -> np.ndarray:
        """Return the mapped picture.

        Parameters
        ----------
        image : np.ndarray, shape (H, W, 3), uint8

        Returns
        -------
        np.ndarray, shape (H, W, 3), uint8
            Clipped to 0-255 and rounded to the nearest level.
        """
        out = image.astype(np.float32) @ self.matrix + np.float32(self.offset)
        return np.clip(out + 0.5, 0.0, 255.0).astype(np.uint8)


class PostEffects:
    """Brightness, contrast and hue shift, as one colour matrix.

    Parameters
    ----------
    brightness : float
        Added light, -1 (black) to 1 (white); 0 leaves the picture alone.
    contrast : float
        Gain around mid-grey; 1 leaves the picture alone, 0 is flat grey.
    hue_deg : float
        Rotation of the hues, degrees.
    """

    def __init__(self, brightness: float = 0.0, contrast: float = 1.0, hue_deg: float = 0.0):
        self.set(brightness, contrast, hue_deg)

    def set(self, brightness: float, contrast: float, hue_deg: float) -> None:
        """Change the adjustments (takes effect on the next frame).

        The matrix, offset and neutral flag are replaced in one assignment, so a
        display thread applying them meanwhile sees the old set or the new one,
        never half of each.
        """
        a = -math.radians(hue_deg)  # positive turns red towards green, as on a colour wheel
        rot = np.array([[1, 0, 0], [0, math.cos(a), -math.sin(a)], [0, math.sin(a), math.cos(a)]])
        colour = _YIQ_TO_RGB @ rot @ _RGB_TO_YIQ
        matrix = (contrast * colour).T.astype(np.float32)
        offset = float(127.5 * (1.0 - contrast) + 255.0 * brightness)
        neutral = brightness == 0.0 and contrast == 1.0 and hue_deg % 360.0 == 0.0
        self._state: tuple[ColourMatrix, bool] = (ColourMatrix(matrix, offset), neutral)

    @property
    def neutral(self) -> bool:
        """Whether the adjustments leave the picture alone."""
        return self._state[1]

    @property
    def colour(self) -> ColourMatrix:
        """The adjustments in force, as one colour map (a snapshot: later changes make a new one)."""
        return self._state[0]

    def apply(self, image: np.ndarray) -> np.ndarray:
        """Return the adjusted picture (the same array when neutral).

        Parameters
        ----------
        image : np.ndarray, shape (H, W, 3), uint8

        Returns
        -------
        np.ndarray, shape (H, W, 3), uint8
        """
        colour, neutral = self._state  # one read: one consistent set
        return image if neutral else colour.apply(image)


class FrameDelay(Generic[T]):
    """Show each frame ``delay_s`` after it was made (a frame is any object: a picture, a recipe).

    Parameters
    ----------
    delay_s : float
        Delay, seconds (0 passes frames straight through).
    """

    def __init__(self, delay_s: float = 0.0) -> None:
        self.delay_s = max(0.0, float(delay_s))
        self._frames: deque[tuple[float, T]] = deque()

    def push(self, now: float, image: T) -> T:
        """Add the frame made at ``now``; return the one to show now."""
        if self.delay_s <= 0.0:
            self._frames.clear()
            return image
        self._frames.append((now, image))
        due = now - self.delay_s
        while len(self._frames) > 1 and self._frames[1][0] <= due:
            self._frames.popleft()
        return self._frames[0][1]
