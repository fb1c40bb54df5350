"""live.display.hud: text that fits its panel, on one baseline, and what the panel shows."""

from __future__ import annotations

import numpy as np
import pygame
import pytest

from ganterp.live.display.hud import BG, ELLIPSIS, HudModel, HudPainter

GREY = (100, 100, 100)
LONG_PATH = "file: /media/show/sets/2026/a-very-long-folder-name/recording-final-mix-v3.flac"


def _model(**changes) -> HudModel:
    fields = dict(
        display_fps=60.0, keyframes_per_s=30.0, generate_ms=12.0, rms_db=-12.0, level=0.6,
        bands=(0.5, 0.3, 0.2), bpm=124.0, beat_flash=0.0, inflection_flash=0.0, curve=0.3,
        threshold=0.08, current="goldfinch", upcoming="tabby", alpha=0.4, inflections=3,
        counters="overflows 0  audio drops 0", source=f"{LONG_PATH} - running",
        warnings=("MIDI learn: trajectory.motion_speed - move a control (L: next setting)",),
        generator="cppn 256 px", preset="club", truncation=0.4,
    )  # fmt: skip
    fields.update(changes)
    return HudModel(**fields)


@pytest.fixture(scope="module")
def painter() -> HudPainter:
    return HudPainter(1.0)  # FreeType and plain surfaces need no display


def test_a_long_line_ends_in_an_ellipsis_within_the_width(painter) -> None:
    short = "60.0 fps"
    assert painter.fit(short, 300) == short
    fitted = painter.fit(LONG_PATH, 300)
    assert fitted.endswith(ELLIPSIS) and LONG_PATH.startswith(fitted[:-1])
    assert painter.text_width(fitted) <= 300
    assert painter.text_width(painter.fit(LONG_PATH + "x", 300)) <= 300
    assert painter.font.kerning  # letters set with the font's kerning


def test_a_warning_wraps_between_words_and_cuts_what_no_line_holds(painter) -> None:
    words = "the generator ran out of memory and switched to a smaller batch"
    lines = painter.wrap(words, 200)
    assert len(lines) > 1 and " ".join(lines) == words
    assert all(painter.text_width(line) <= 200 for line in lines)
    blob = "x" * 400
    cut = painter.wrap(blob, 200, max_lines=2)
    assert len(cut) == 2 and cut[-1].endswith(ELLIPSIS)
    assert all(painter.text_width(line) <= 200 for line in cut)


def _draw(painter: HudPainter, model: HudModel) -> np.ndarray:
    target = pygame.Surface((1280, 720))
    target.fill(GREY)
    painter.draw(target, model)
    return pygame.surfarray.array3d(target).transpose(1, 0, 2)


def test_the_panel_sits_in_the_top_left_corner_and_text_never_reaches_its_edge(painter) -> None:
    long = _model(
        current="great grey owl, great gray owl, Strix nebulosa " * 3,
        warnings=("generator: " + "out of memory " * 12, "MIDI learn: " + "x" * 200),
    )
    pixels = _draw(painter, long)
    pad, width = painter.pad, painter.width
    changed = (pixels != GREY).any(axis=2)
    painted = np.flatnonzero(changed.any(axis=0))
    assert painted.min() == pad and painted.max() == pad + width - 1  # the panel's own columns
    rows = np.flatnonzero(changed.any(axis=1))
    assert rows.min() == pad
    # The panel's right margin holds nothing but its background: no text ran into it.
    margin = pixels[pad : rows.max() + 1, pad + width - pad + 1 : pad + width]
    assert np.ptp(margin.reshape(-1, 3), axis=0).max() <= 1
    # Taller with the wrapped warnings than without them.
    plain = _draw(painter, _model(warnings=()))
    assert np.flatnonzero((plain != GREY).any(axis=2).any(axis=1)).max() < rows.max()
    assert BG[3] < 255  # see-through: the picture shows behind the panel


def test_the_panel_shows_preset_truncation_and_marks_an_unsure_tempo(painter) -> None:
    lines = []

    def spy(text: str, width: int) -> str:  # record what is drawn
        lines.append(text)
        return text

    painter_fit, painter.fit = painter.fit, spy
    try:
        _draw(painter, _model(bpm=151.6, bpm_steady=False))
        _draw(painter, _model(bpm=124.0, preset=""))
    finally:
        painter.fit = painter_fit
    assert "preset club   truncation 0.40" in lines and "~152 BPM" in lines
    assert "no preset   truncation 0.40" in lines and "124.0 BPM" in lines


def test_even_a_tiny_width_gives_an_answer(painter) -> None:
    assert painter.fit(LONG_PATH, 2) == ""
    lines = painter.wrap("ab cd", 0, max_lines=0)
    assert len(lines) == 1 and lines[0]
    assert painter.wrap("", 100) == [""]


def test_the_same_model_gives_the_panel_painted_once(painter) -> None:
    first = painter.panel(_model())
    assert painter.panel(_model()) is first  # equal contents: not painted again
    assert painter.panel(_model(display_fps=30.0)) is not first
