"""A headless display for tests that keeps what it was shown."""

from __future__ import annotations

import numpy as np

from ganterp.live.display.window import HeadlessDisplay


class KeepFrames(HeadlessDisplay):
    """A headless display that keeps a copy of every frame it is given.

    ``actions`` set by a test are handed to the show at its next frame, as
    if those keys had been pressed.
    """

    def __init__(self) -> None:
        super().__init__((320, 180))
        self.frames: list[np.ndarray] = []
        self.actions: list = []

    def poll(self):
        actions, self.actions = self.actions, []
        return actions

    def present(self, frame, hud):
        self.frames.append(frame.image.copy())
        super().present(frame, hud)
