"""The heads-up display: what the analysis hears and how the show is doing.

:class:`HudModel` is plain data built by the show each frame; :class:`HudPainter`
draws it onto a pygame surface, in a panel in the top-left corner. Text is set
with FreeType (kerned, on a common baseline) and always fits its panel: a long
line ends in an ellipsis, a warning wraps. Text surfaces are cached by content,
so a steady HUD costs a few rectangle fills per frame.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")  # pygame's greeting is not ours to print
import pygame
import pygame.freetype

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
    outputs : tuple of str
        The outputs that work, one line each, e.g. ``"NDI ganterp: 2 receivers, 900 sent"``.
    bpm_steady : bool
        Whether the tempo is steady (shown plainly) or a rough guess (marked ``~``).
    preset : str
        The preset last applied ('' for none).
    truncation : float
        The generator's truncation (0: unknown).
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
    outputs: tuple[str, ...] = field(default_factory=tuple)
    bpm_steady: bool = True
    preset: str = ""
    truncation: float = 0.0


ELLIPSIS = "\u2026"


class HudPainter:
    """Draws a :class:`HudModel` in the top-left corner of a surface.

    Parameters
    ----------
    scale : float
        Size multiplier (1.0 suits a 720p window).
    """

    def __init__(self, scale: float = 1.0) -> None:
        if not pygame.freetype.get_init():
            pygame.freetype.init()
        self.scale = s = max(0.5, float(scale))
        self.font = pygame.freetype.Font(None, round(15 * s))
        self.font.kerning = True
        # Every row's text is placed by its baseline (see _surface): rows line up.
        self.pad = round(10 * s)
        self.width = round(380 * s)
        self.line = round(22 * s)
        self._ascender = self.font.get_sized_ascender()
        self._cache: dict[tuple[str, tuple[int, int, int]], tuple[pygame.Surface, int]] = {}
        self._panel: tuple[HudModel, pygame.Surface] | None = None

    # -- text that fits --------------------------------------------------------------------
    def text_width(self, text: str) -> int:
        """Width of ``text`` as drawn, pixels."""
        return int(self.font.get_rect(text).width) if text else 0

    def fit(self, text: str, width: int) -> str:
        """``text``, shortened with an ellipsis if it is wider than ``width`` pixels.

        Empty when not even the ellipsis fits.
        """
        if self.text_width(text) <= width:
            return text
        if self.text_width(ELLIPSIS) > width:
            return ""
        lo, hi = 0, len(text)  # the longest prefix that fits with the ellipsis
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if self.text_width(text[:mid].rstrip() + ELLIPSIS) <= width:
                lo = mid
            else:
                hi = mid - 1
        return text[:lo].rstrip() + ELLIPSIS

    def wrap(self, text: str, width: int, max_lines: int = 3) -> list[str]:
        """``text`` in lines no wider than ``width`` pixels (at most ``max_lines``).

        Lines break between words; a word wider than a line is cut; what does not
        fit in ``max_lines`` ends the last line in an ellipsis.
        """
        width = max(width, self.text_width("M"), self.text_width(ELLIPSIS))  # a letter a line
        max_lines = max(1, max_lines)
        lines: list[str] = []
        current = ""
        for word in text.split():
            while self.text_width(word) > width:  # a word wider than a line: cut it
                if current:
                    lines.append(current)
                    current = ""
                cut = max(1, len(self.fit(word, width)) - 1)  # the prefix that fits
                lines.append(word[:cut])
                word = word[cut:]
            trial = f"{current} {word}" if current else word
            if self.text_width(trial) <= width:
                current = trial
            else:
                lines.append(current)
                current = word
        if current:
            lines.append(current)
        if len(lines) > max_lines:
            lines = [*lines[: max_lines - 1], self.fit(" ".join(lines[max_lines - 1 :]), width)]
        return lines or [""]

    def _surface(self, text: str, colour: tuple[int, int, int]) -> tuple[pygame.Surface, int]:
        key = (text, colour)
        hit = self._cache.get(key)
        if hit is None:
            if len(self._cache) > 512:
                self._cache.clear()
            surf, rect = self.font.render(text, colour)
            hit = (surf, int(rect.y))  # rect.y: how far the surface reaches above the baseline
            self._cache[key] = hit
        return hit

    # -- the panel -------------------------------------------------------------------------
    @property
    def origin(self) -> tuple[int, int]:
        """Where the panel's top-left corner goes on the screen, ``(x, y)`` pixels."""
        return self.pad, self.pad

    def draw(self, target: pygame.Surface, m: HudModel) -> None:
        """Paint the HUD onto ``target``, in its top-left corner."""
        target.blit(self.panel(m), self.origin)

    def panel(self, m: HudModel) -> pygame.Surface:
        """The HUD's panel: a surface with per-pixel alpha, to place at :attr:`origin`.

        The same model gives the same surface, painted once (do not draw on it).
        """
        if self._panel is not None and self._panel[0] == m:
            return self._panel[1]
        panel = self._paint(m)
        self._panel = (m, panel)
        return panel

    def _paint(self, m: HudModel) -> pygame.Surface:
        s, pad, width, line = self.scale, self.pad, self.width, self.line
        inner = width - 2 * pad
        warnings = [row for w in m.warnings for row in self.wrap(w, inner)]
        rows = 10 + len(warnings) + (1 if m.generator else 0) + len(m.outputs)
        panel = pygame.Surface((width, pad * 2 + line * rows), pygame.SRCALPHA)
        panel.fill(BG)
        y = pad
        baseline = (line + self._ascender) // 2

        def text(t: str, colour: tuple[int, int, int] = FG, x: int = pad) -> None:
            surf, above = self._surface(self.fit(t, width - pad - x), colour)
            panel.blit(surf, (x, y + baseline - above))

        text(
            f"{m.display_fps:5.1f} fps   {m.keyframes_per_s:5.1f} keyframes/s   {m.generate_ms:5.1f} ms"
        )
        y += line
        text(m.source, DIM)
        y += line
        if m.generator:
            text(m.generator, DIM)
            y += line
        for output in m.outputs:
            text(output, DIM)
            y += line
        preset = f"preset {m.preset}" if m.preset else "no preset"
        trunc = f"truncation {m.truncation:.2f}" if m.truncation > 0 else ""
        text(f"{preset}   {trunc}".rstrip(), DIM)
        y += line
        # Level meter.
        bar_x = pad + round(70 * s)
        bar_w = width - bar_x - pad
        bar_h = round(12 * s)
        bar_y = (line - bar_h) // 2
        text(f"{m.rms_db:6.1f} dB")
        pygame.draw.rect(panel, (60, 60, 60), (bar_x, y + bar_y, bar_w, bar_h))
        pygame.draw.rect(panel, ACCENT, (bar_x, y + bar_y, round(bar_w * m.level), bar_h))
        y += line
        # Band meters.
        third = (bar_w - 2 * pad) // 3
        text("bands", DIM)
        for i, (value, colour) in enumerate(
            zip(m.bands, ((255, 120, 80), (120, 230, 120), (120, 160, 255)), strict=True)
        ):
            x = bar_x + i * (third + pad)
            pygame.draw.rect(panel, (60, 60, 60), (x, y + bar_y, third, bar_h))
            pygame.draw.rect(panel, colour, (x, y + bar_y, round(third * value), bar_h))
        y += line
        # Tempo with a beat flash: a rough guess is marked and dimmed.
        if m.bpm <= 0:
            text("--- BPM", DIM)
        elif m.bpm_steady:
            text(f"{m.bpm:.1f} BPM")
        else:
            text(f"~{m.bpm:.0f} BPM", DIM)
        flash = max(0.0, min(1.0, m.beat_flash))
        radius = round(7 * s)
        beat_colour = [round(60 + (c - 60) * flash) for c in BEAT]
        pygame.draw.circle(panel, beat_colour, (bar_x + round(70 * s), y + line // 2), radius)
        y += line
        # Inflection curve against its threshold (square-root scale: the calm end
        # where inflections live gets most of the bar), with a flash on each one.
        text("change", DIM)
        pygame.draw.rect(panel, (60, 60, 60), (bar_x, y + bar_y, bar_w, bar_h))
        fill = round(bar_w * math.sqrt(min(1.0, max(0.0, m.curve))))
        pygame.draw.rect(panel, (230, 230, 120), (bar_x, y + bar_y, fill, bar_h))
        tx = bar_x + round(bar_w * math.sqrt(min(1.0, max(0.0, m.threshold))))
        pygame.draw.line(panel, WARN, (tx, y + bar_y - 3), (tx, y + bar_y + bar_h + 2), 2)
        if m.inflection_flash > 0:
            glow = round(255 * min(1.0, m.inflection_flash))
            pygame.draw.rect(
                panel, (glow, glow, 0), (bar_x - round(14 * s), y + bar_y, round(8 * s), bar_h)
            )
        y += line
        text(f"now   {m.current}  ({round(100 * m.alpha)}%)", FG)
        y += line
        text(f"next  {m.upcoming}   inflections {m.inflections}", DIM)
        y += line
        text(m.counters, DIM)
        y += line
        for w in warnings:
            text(w, WARN)
            y += line
        return panel
