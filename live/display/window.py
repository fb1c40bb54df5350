"""Where frames go: a pygame window, or nowhere (headless).

Both displays take the same calls: :meth:`poll` returns the user's actions,
:meth:`present` shows a frame (with the HUD when given one), :meth:`close`
ends. The window fills the screen with the frame's aspect kept and smooth
scaling.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from ganterp.live.core.commands import (
    Command,
    Freeze,
    LoadPresetSlot,
    NextCategory,
    ReleaseTempo,
    ReseedZ,
    TapTempo,
)
from ganterp.live.core.errors import DisplayError
from ganterp.live.core.stderr import quiet_native_stderr
from ganterp.live.display.compositor import Composite
from ganterp.live.display.hud import HudModel, HudPainter


@dataclass(frozen=True)
class Quit:
    """Leave the show."""


@dataclass(frozen=True)
class ToggleHud:
    """Show or hide the HUD."""


@dataclass(frozen=True)
class ToggleFullscreen:
    """Switch between full screen and a window."""


@dataclass(frozen=True)
class ToggleBlackout:
    """Fade to black, or back."""


@dataclass(frozen=True)
class ToggleFreeze:
    """Hold the picture, or let it move."""


@dataclass(frozen=True)
class NextMidiLearn:
    """Arm MIDI learn for the next setting in turn (the next control moved is bound to it)."""


Action = (
    Quit | ToggleHud | ToggleFullscreen | ToggleBlackout | ToggleFreeze | NextMidiLearn | Command
)

#: The keys, documented in the README: key name → action.
KEYS: dict[str, Action] = {
    "escape": Quit(),
    "q": Quit(),
    "f": ToggleFullscreen(),
    "h": ToggleHud(),
    "space": NextCategory(),
    "r": ReseedZ(),
    "b": ToggleBlackout(),
    "p": ToggleFreeze(),
    "t": TapTempo(),
    "y": ReleaseTempo(),
    "l": NextMidiLearn(),
    **{str(n): LoadPresetSlot(n) for n in range(1, 10)},
}

__all__ = ["KEYS", "Action", "Display", "Freeze", "HeadlessDisplay", "PygameWindow"]


class Display(Protocol):
    """A place to show frames."""

    size: tuple[int, int]
    #: What the HUD should say about this display (a fallback taken), one line each.
    warnings: tuple[str, ...]
    #: What draws the frames, for the start-up line, e.g. ``"OpenGL, NVIDIA RTX 4070"``.
    label: str

    def poll(self) -> list[Action]:
        """Return the user's actions since the last call."""
        ...

    def present(self, frame: Composite, hud: HudModel | None) -> None:
        """Show ``frame``, with the HUD when given one."""
        ...

    def close(self) -> None:
        """Close the display."""
        ...


class HeadlessDisplay:
    """A display with no window: frames are counted (and kept for a screenshot).

    Parameters
    ----------
    size : tuple of int
        Nominal ``(width, height)``, pixels.
    """

    def __init__(self, size: tuple[int, int] = (1280, 720)) -> None:
        self.size = size
        self.warnings: tuple[str, ...] = ()
        self.label = "headless"
        self.presented = 0
        self._last: Composite | None = None

    def poll(self) -> list[Action]:
        """Return nothing: nobody can press a key."""
        return []

    @property
    def last(self) -> np.ndarray | None:
        """The last frame's pixels, shape (H, W, 3), uint8 (None before the first)."""
        return None if self._last is None else self._last.image

    def present(self, frame: Composite, hud: HudModel | None) -> None:
        """Count the frame and keep it."""
        self.presented += 1
        self._last = frame

    def close(self) -> None:
        """Nothing to close."""


def parse_size(text: str) -> tuple[int, int]:
    """Parse ``"WIDTHxHEIGHT"`` into a tuple of pixels.

    Raises
    ------
    ValueError
        With a one-line message for anything else.
    """
    parts = text.lower().replace(" ", "").split("x")
    if len(parts) != 2 or not all(p.isdigit() for p in parts):
        raise ValueError(f"size must look like 1280x720, not '{text}'")
    w, h = int(parts[0]), int(parts[1])
    if not (16 <= w <= 16384 and 16 <= h <= 16384):
        raise ValueError(f"size {text} is out of range (16 to 16384 pixels a side)")
    return w, h


def fit(frame: tuple[int, int], screen: tuple[int, int]) -> tuple[int, int, int, int]:
    """Largest rectangle of the frame's aspect inside the screen, centred.

    Parameters
    ----------
    frame, screen : tuple of int
        ``(width, height)`` in pixels.

    Returns
    -------
    tuple of int
        ``(x, y, width, height)`` of the placed frame.
    """
    fw, fh = frame
    sw, sh = screen
    scale = min(sw / fw, sh / fh)
    w, h = max(1, round(fw * scale)), max(1, round(fh * scale))
    return (sw - w) // 2, (sh - h) // 2, w, h


#: SDL's video drivers that draw nowhere.
HEADLESS_DRIVERS = ("offscreen", "dummy", "evdev")


def _no_server() -> str:
    """What display the environment names, for the message when none answers."""
    named = [f"{k}={os.environ[k]}" for k in ("DISPLAY", "WAYLAND_DISPLAY") if os.environ.get(k)]
    return f"no display server answers at {' '.join(named)}" if named else "no display is set"


class PygameWindow:
    """A real window (or full screen) drawn with pygame.

    Parameters
    ----------
    fullscreen : bool
        Start full screen (at the monitor's size) rather than in a window.
    display : int
        Monitor index.
    size : tuple of int
        Window ``(width, height)`` in pixels.
    title : str
        Window title.
    hud_scale : float, optional
        HUD size multiplier; by default it follows the window height.

    Raises
    ------
    DisplayError
        When no window can be opened (no display server, bad monitor index).
    """

    def __init__(
        self,
        *,
        fullscreen: bool,
        display: int = 0,
        size: tuple[int, int] = (1280, 720),
        title: str = "ganterp",
        hud_scale: float | None = None,
    ) -> None:
        os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
        import pygame

        self._pg = pygame
        try:
            with quiet_native_stderr():  # SDL prints each driver it tries
                pygame.display.init()
        except pygame.error as exc:
            raise DisplayError(
                f"cannot open a window: {exc} (use --headless to run without one)"
            ) from None
        driver = pygame.display.get_driver()
        asked = os.environ.get("SDL_VIDEODRIVER", "")
        if driver in HEADLESS_DRIVERS and driver not in asked:
            # SDL falls back to drawing off screen when no display server answers.
            pygame.display.quit()
            raise DisplayError(
                f"cannot open a window: {_no_server()} (use --headless to run without one)"
            )
        count = pygame.display.get_num_displays()
        if not 0 <= display < count:
            pygame.display.quit()
            raise DisplayError(f"no display {display}: this machine has {count} (0 to {count - 1})")
        pygame.display.set_caption(title)
        self.title = title
        self.display = display
        self.window_size = size
        self.fullscreen = fullscreen
        self._hud_scale = hud_scale
        self.warnings: tuple[str, ...] = ()
        self.label = "window drawn by the CPU"
        self._painter: HudPainter | None = None
        self._scaled: tuple[int, int] = (0, 0)
        self._open()
        pygame.mouse.set_visible(not fullscreen)
        pygame.key.set_repeat()

    def _open(self) -> None:
        pg = self._pg
        try:
            if self.fullscreen:
                desktop = pg.display.get_desktop_sizes()[self.display]
                self.screen = pg.display.set_mode(desktop, pg.FULLSCREEN, display=self.display)
            else:
                self.screen = pg.display.set_mode(self.window_size, 0, display=self.display)
        except pg.error as exc:
            raise DisplayError(f"cannot open a window: {exc}") from None
        self.size = self.screen.get_size()
        self._painter = None
        self.screen.fill((0, 0, 0))

    def toggle_fullscreen(self) -> None:
        """Switch between full screen and the window size."""
        self.fullscreen = not self.fullscreen
        self._open()
        self._pg.mouse.set_visible(not self.fullscreen)

    def poll(self) -> list[Action]:
        """Translate pygame events into actions."""
        pg = self._pg
        actions: list[Action] = []
        for event in pg.event.get():
            if event.type == pg.QUIT:
                actions.append(Quit())
            elif event.type == pg.KEYDOWN:
                action = KEYS.get(pg.key.name(event.key))
                if action is not None:
                    actions.append(action)
        return actions

    def present(self, frame: Composite, hud: HudModel | None) -> None:
        """Paint ``frame``, scale it to fill the screen with its aspect kept, draw the HUD, flip."""
        pg = self._pg
        image = frame.image
        h, w = image.shape[:2]
        frame = pg.image.frombuffer(np.ascontiguousarray(image), (w, h), "RGB")
        x, y, fw, fh = fit((w, h), self.size)
        if (fw, fh) != self._scaled:
            self.screen.fill((0, 0, 0))
            self._scaled = (fw, fh)
        if (fw, fh) != (w, h):
            frame = pg.transform.smoothscale(frame, (fw, fh))
        self.screen.blit(frame, (x, y))
        if hud is not None:
            if self._painter is None:
                scale = self._hud_scale or max(0.75, self.size[1] / 720)
                self._painter = HudPainter(scale)
            self._painter.draw(self.screen, hud)
            # The HUD panel overwrote part of the frame; redraw the bars next time.
            self._scaled = (0, 0)
        pg.display.flip()

    def close(self) -> None:
        """Close the window."""
        self._pg.display.quit()
