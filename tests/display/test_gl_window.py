"""live.display.gl_window: the picture drawn through OpenGL, on a real X server (Xvfb, Mesa).

The CPU window is the reference: both are given the same keyframes, fade weight
and adjustments, and must show the same picture.
"""

from __future__ import annotations

import logging

import numpy as np
import pygame
import pytest
from xserver import xvfb

from ganterp.live.core.errors import DisplayError
from ganterp.live.display.compositor import Composite, Keyframe
from ganterp.live.display.effects import PostEffects
from ganterp.live.display.gl_window import GlWindow
from ganterp.live.display.hud import HudPainter
from ganterp.live.display.window import PygameWindow, fit
from ganterp.live.settings.schema import DisplaySettings
from ganterp.live.show.build import open_window

pytestmark = pytest.mark.x11

SIDE = 128


@pytest.fixture(scope="module")
def x_server():
    with xvfb(1920, 1080) as name:
        yield name


@pytest.fixture
def x11(x_server, monkeypatch):
    monkeypatch.setenv("DISPLAY", x_server)
    monkeypatch.delenv("SDL_VIDEODRIVER", raising=False)
    yield x_server
    pygame.display.quit()


def _picture(seed: int) -> np.ndarray:
    """A smooth, coloured picture with edges, like a generator's (not noise)."""
    y, x = np.mgrid[0:SIDE, 0:SIDE] / SIDE
    rng = np.random.default_rng(seed)
    a, b, c = rng.uniform(2, 6, 3)
    img = np.stack(
        [
            0.5 + 0.5 * np.sin(a * x + b * y),
            0.5 + 0.5 * np.cos(b * x - c * y),
            ((x - 0.5) ** 2 + (y - 0.5) ** 2 < rng.uniform(0.05, 0.15)).astype(float),
        ],
        axis=-1,
    )
    return (img * 230 + 10).astype(np.uint8)


def _keyframe(seed: int, index: int = 1) -> Keyframe:
    return Keyframe(image=_picture(seed), target=None, ready_s=0.0, generate_ms=1.0, index=index)


def _cpu_shot(frame: Composite, size: tuple[int, int]) -> np.ndarray:
    window = PygameWindow(fullscreen=False, size=size)
    try:
        window.present(frame, None)
        return pygame.surfarray.array3d(window.screen).transpose(1, 0, 2).copy()
    finally:
        window.close()


def _gl_shot(frame: Composite, size: tuple[int, int]) -> np.ndarray:
    window = GlWindow(fullscreen=False, size=size)
    try:
        return window.read_frame(frame)
    finally:
        window.close()


CASES = {
    "halfway": dict(weight=0.5),
    "a third, brighter, more contrast, hue turned": dict(
        weight=0.3, colour=PostEffects(1.1, 1.15, 40.0).colour
    ),
    "darker, half black": dict(weight=0.8, colour=PostEffects(0.7, 0.9, 0.0).colour, black=0.5),
    "black": dict(weight=1.0, black=1.0),
}


@pytest.mark.parametrize("case", list(CASES))
def test_the_gpu_and_the_cpu_show_the_same_picture(x11, case) -> None:
    frame = Composite(previous=_picture(1), keyframe=_keyframe(2), **CASES[case])
    # 1:1 (the picture in the middle of a wider window): the same pixels.
    same_size = (SIDE + 64, SIDE)
    cpu, gl = _cpu_shot(frame, same_size), _gl_shot(frame, same_size)
    assert cpu.shape == gl.shape == (SIDE, SIDE + 64, 3)
    diff = np.abs(cpu.astype(int) - gl.astype(int))
    assert diff.max() <= 3, case
    # Scaled up 2.8x to a 16:9 window: the filters differ a little, at edges only.
    cpu, gl = _cpu_shot(frame, (640, 360)), _gl_shot(frame, (640, 360))
    x, _, fw, _ = fit((SIDE, SIDE), (640, 360))
    picture = (slice(None), slice(x, x + fw))
    diff = np.abs(cpu.astype(int) - gl.astype(int))[picture]
    assert diff.mean() < 1.5 and np.percentile(diff, 99) <= 16, (case, diff.mean())
    assert gl[:, : x - 1].max() == 0 and gl[:, x + fw + 1 :].max() == 0  # black bars
    if frame.black == 1:
        assert gl.max() == 0
        return
    assert gl[picture].mean() > 30  # the picture itself is there
    # The tolerance tells a fade 0.1 off apart.
    off = Composite(
        previous=frame.previous,
        keyframe=frame.keyframe,
        **{**CASES[case], "weight": frame.weight - 0.1},
    )
    wrong = np.abs(cpu.astype(int) - _gl_shot(off, (640, 360)).astype(int))[picture]
    assert wrong.mean() > 2 * diff.mean() and wrong.mean() > 1.0, (wrong.mean(), diff.mean())


def test_each_picture_is_uploaded_once_and_the_hud_only_when_it_changes(x11) -> None:
    from test_hud import _model

    window = GlWindow(fullscreen=False, size=(640, 360))
    try:
        first, second = _keyframe(2, 1), _keyframe(3, 2)
        start = _picture(1)
        hud = _model()
        for k in range(10):  # a fade over ten frames, the same HUD on each
            window.present(Composite(start, first, weight=k / 9), hud)
        assert window.uploads == 2  # the picture before and the keyframe, once each
        assert window.hud_uploads == 1
        for k in range(10):
            window.present(Composite(first.image, second, weight=k / 9), hud)
        assert window.uploads == 3  # only the new keyframe
        window.present(Composite(first.image, second, weight=1.0), _model(display_fps=30.0))
        assert window.hud_uploads == 2  # what the HUD says changed
        assert window.renderer and window.software  # Xvfb draws with Mesa's llvmpipe
    finally:
        window.close()


def test_the_hud_sits_in_its_panel_over_the_picture(x11) -> None:
    from test_hud import _model

    window = GlWindow(fullscreen=False, size=(1280, 720))
    try:
        black = Composite(_picture(1), _keyframe(2), weight=1.0, black=1.0)
        shot = window.read_frame(black, _model()).astype(int)
        painter = HudPainter(1.0)
        panel = painter.panel(_model())
        (px, py), (pw, ph) = painter.origin, panel.get_size()
        inside = shot[py : py + ph, px : px + pw]
        outside = shot.copy()
        outside[py : py + ph, px : px + pw] = 0
        assert outside.max() == 0  # the blackout: nothing but the panel
        assert inside.mean() > 5 and inside.max() > 150  # the panel, with bright text
        expected = pygame.surfarray.array3d(panel).transpose(1, 0, 2).astype(int)
        alpha = pygame.surfarray.array_alpha(panel).T[..., None] / 255.0
        over_black = (expected * alpha).round()
        assert np.abs(inside - over_black).mean() < 2  # blended as the CPU window blends it
    finally:
        window.close()


def _settings(renderer: str) -> DisplaySettings:
    return DisplaySettings(renderer=renderer, fullscreen=False)


def test_without_opengl_the_cpu_draws_and_says_so(x11, caplog) -> None:
    def no_gl(**_):
        raise DisplayError("cannot draw with OpenGL: GLX is missing")

    with caplog.at_level(logging.WARNING, logger="ganterp"):
        window = open_window(_settings("auto"), (320, 180), gl_window=no_gl)
    try:
        assert type(window) is PygameWindow
        assert window.warnings == ("CPU display: no OpenGL (GLX is missing)",)
        assert any("no OpenGL (GLX is missing)" in r.getMessage() for r in caplog.records)
    finally:
        window.close()
    with pytest.raises(DisplayError, match="GLX is missing"):
        open_window(_settings("gpu"), (320, 180), gl_window=no_gl)


def test_the_cpu_renderer_and_no_display_at_all(x11, monkeypatch) -> None:
    def unused(**_):
        raise AssertionError("the GPU window was opened")

    window = open_window(_settings("cpu"), (320, 180), gl_window=unused)
    assert type(window) is PygameWindow and window.warnings == ()
    window.close()

    def no_window(**_):
        raise DisplayError("cannot open a window: no X server")

    with pytest.raises(DisplayError, match="cannot open a window"):
        open_window(_settings("auto"), (320, 180), gl_window=no_window)
    window = open_window(_settings("auto"), (320, 180))
    assert isinstance(window, GlWindow) and window.warnings == ()
    window.close()
