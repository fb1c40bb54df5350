"""The heads-up display: what the analysis hears and how the show is doing.

:class:`HudModel` is plain data built by the show each frame; :class:`HudPainter`
draws it onto a pygame surface. Text surfaces are cached by content, so a
steady HUD costs a few rectangle fills per frame.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")  # pygame's greeting is not ours to print
import pygame

BG = (0, 0, 0, 150)
FG = (235, 235, 235)
DIM = (150, 150, 150)
WARN = (255, 170, 60)
ACCENT = (90, 200, 255)
BEAT = (255, 80, 120)


@dataclass(frozen=True)
class HudModel:
    """Everything the HUD shows, for one frame.

    Attributes
    ----------
    display_fps : float
        Frames presented per second.
    keyframes_per_s : float
        Generator keyframes per second.
    generate_ms : float
        Median generator time, milliseconds.
    rms_db : float
        Input level, dBFS.
    level : float
        Input level on [0, 1].
    bands : tuple of float
        Low, mid, high band levels on [0, 1].
    bpm : float
        Tempo, beats per minute (0 unknown).
    beat_flash : float
        1 just after a beat, decaying to 0.
    inflection_flash : float
        1 just after an inflection, decaying to 0.
    curve : float
        The inflection detector's curve value, [0, 1].
    threshold : float
        The detector's absolute threshold, same units as ``curve``.
    current : str
        Name of the category on screen (being morphed to).
    upcoming : str
        Name of the category the next inflection brings.
    alpha : float
        Morph progress, [0, 1].
    inflections : int
        Inflections so far.
    counters : str
        Drops and overflows, one line.
    source : str
        Input label and state.
    warnings : tuple of str
        Problems to show in orange.
    generator : str
        What paints, e.g. ``"biggan-deep-256 tensorrt fp16 41 dB"``.
    """

    display_fps: float
    keyframes_per_s: float
    generate_ms: float
    rms_db: float
    level: float
    bands: tuple[float, float, float]
    bpm: float
    beat_flash: float
    inflection_flash: float
    curve: float
    threshold: float
    current: str
    upcoming: str
    alpha: float
    inflections: int
    counters: str
    source: str
    warnings: tuple[str, ...] = field(default_factory=tuple)
    generator: str = ""


class HudPainter:
    """Draws a :class:`HudModel` in the top-left corner of a surface.

    Parameters
    ----------
    scale : float
        Size multiplier (1.0 suits a 720p window).
    """

    def __init__(self, scale: float = 1.0) -> None:
        if not pygame.font.get_init():
            pygame.font.init()
        self.scale = max(0.5, float(scale))
        self.font = pygame.font.Font(None, round(22 * self.scale))
        self.big = pygame.font.Font(None, round(30 * self.scale))
        self._cache: dict[tuple[str, tuple[int, int, int], bool], pygame.Surface] = {}

    def _text(
        self, text: str, colour: tuple[int, int, int] = FG, big: bool = False
    ) -> pygame.Surface:
        key = (text, colour, big)
        surf = self._cache.get(key)
        if surf is None:
            if len(self._cache) > 512:
                self._cache.clear()
            surf = (self.big if big else self.font).render(text, True, colour)
            self._cache[key] = surf
        return surf

    def draw(self, target: pygame.Surface, m: HudModel) -> None:
        """Paint the HUD onto ``target``."""
        s = self.scale
        pad = round(10 * s)
        width = round(360 * s)
        line = round(22 * s)
        rows = 9 + len(m.warnings) + (1 if m.generator else 0)
        panel = pygame.Surface((width, pad * 2 + line * rows), pygame.SRCALPHA)
        panel.fill(BG)
        y = pad

        def text(t: str, colour: tuple[int, int, int] = FG, x: int = pad) -> None:
            panel.blit(self._text(t, colour), (x, y))

        text(
            f"{m.display_fps:5.1f} fps   {m.keyframes_per_s:5.1f} keyframes/s   {m.generate_ms:5.1f} ms"
        )
        y += line
        text(m.source, DIM)
        y += line
        if m.generator:
            text(m.generator, DIM)
            y += line
        # Level meter.
        bar_x = pad + round(70 * s)
        bar_w = width - bar_x - pad
        bar_h = round(12 * s)
        text(f"{m.rms_db:6.1f} dB")
        pygame.draw.rect(panel, (60, 60, 60), (bar_x, y + 3, bar_w, bar_h))
        pygame.draw.rect(panel, ACCENT, (bar_x, y + 3, round(bar_w * m.level), bar_h))
        y += line
        # Band meters.
        third = (bar_w - 2 * pad) // 3
        text("bands", DIM)
        for i, (value, colour) in enumerate(
            zip(m.bands, ((255, 120, 80), (120, 230, 120), (120, 160, 255)), strict=True)
        ):
            x = bar_x + i * (third + pad)
            pygame.draw.rect(panel, (60, 60, 60), (x, y + 3, third, bar_h))
            pygame.draw.rect(panel, colour, (x, y + 3, round(third * value), bar_h))
        y += line
        # Tempo with a beat flash.
        bpm = f"{m.bpm:5.1f} BPM" if m.bpm > 0 else "  --- BPM"
        text(bpm)
        flash = max(0.0, min(1.0, m.beat_flash))
        radius = round(7 * s)
        beat_colour = [round(60 + (c - 60) * flash) for c in BEAT]
        pygame.draw.circle(panel, beat_colour, (bar_x + round(40 * s), y + radius + 2), radius)
        y += line
        # Inflection curve against its threshold (square-root scale: the calm end
        # where inflections live gets most of the bar), with a flash on each one.
        text("change", DIM)
        pygame.draw.rect(panel, (60, 60, 60), (bar_x, y + 3, bar_w, bar_h))
        fill = round(bar_w * math.sqrt(min(1.0, max(0.0, m.curve))))
        pygame.draw.rect(panel, (230, 230, 120), (bar_x, y + 3, fill, bar_h))
        tx = bar_x + round(bar_w * math.sqrt(min(1.0, max(0.0, m.threshold))))
        pygame.draw.line(panel, WARN, (tx, y), (tx, y + bar_h + 5), 2)
        if m.inflection_flash > 0:
            glow = round(255 * min(1.0, m.inflection_flash))
            pygame.draw.rect(
                panel, (glow, glow, 0), (bar_x - round(14 * s), y + 3, round(8 * s), bar_h)
            )
        y += line
        text(f"now   {m.current}  ({round(100 * m.alpha)}%)", FG)
        y += line
        text(f"next  {m.upcoming}   inflections {m.inflections}", DIM)
        y += line
        text(m.counters, DIM)
        y += line
        for w in m.warnings:
            text(w, WARN)
            y += line
        target.blit(panel, (pad, pad))
