"""A headless display for tests that keeps what it was shown."""

from __future__ import annotations

import numpy as np

from live.display.window import HeadlessDisplay


class KeepFrames(HeadlessDisplay):
    """A headless display that keeps a copy of every frame it is given."""

    def __init__(self) -> None:
        super().__init__((320, 180))
        self.frames: list[np.ndarray] = []

    def present(self, image, hud):
        self.frames.append(image.copy())
        super().present(image, hud)
