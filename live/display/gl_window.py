"""The window drawn through the graphics pipeline (OpenGL via moderngl).

Each picture is uploaded once, as a texture, when it first appears in a frame;
one fragment shader then scales it to the screen, cross-fades it with the
picture before it, applies the colour adjustments and the blackout. The HUD
panel is a texture of its own, uploaded only when what it shows changes, and
blended on top. Per displayed frame the CPU sets a few uniforms and swaps.

Why OpenGL rather than SDL's 2D renderer: both scale and cross-fade at the same
speed (measured side by side at 1920x1080), but SDL's renderer can only darken
a texture, so brightness, contrast and hue would have stayed on the CPU.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ganterp.live.core.errors import DisplayError
from ganterp.live.core.stderr import quiet_native_stderr
from ganterp.live.display.compositor import Composite
from ganterp.live.display.hud import HudModel, HudPainter
from ganterp.live.display.window import PygameWindow, fit

_VERTEX = """
#version 330
in vec2 pos;
out vec2 uv;
void main() {
    uv = vec2(pos.x, 1.0 - pos.y);  // texture rows run top to bottom
    gl_Position = vec4(pos * 2.0 - 1.0, 0.0, 1.0);
}
"""

_VERTEX_UPRIGHT = """
#version 330
in vec2 pos;
out vec2 uv;
void main() {
    uv = pos;  // a texture drawn by GL: its rows run bottom to top
    gl_Position = vec4(pos * 2.0 - 1.0, 0.0, 1.0);
}
"""

_PICTURE = """
#version 330
in vec2 uv;
out vec4 colour_out;
uniform sampler2D previous;
uniform sampler2D current;
uniform float weight;
uniform mat3 colour;
uniform float offset;
uniform float keep;
void main() {
    vec3 c = mix(texture(previous, uv).rgb, texture(current, uv).rgb, weight);
    c = clamp(colour * c + offset, 0.0, 1.0) * keep;
    colour_out = vec4(c, 1.0);
}
"""

_COPY = """
#version 330
in vec2 uv;
out vec4 colour_out;
uniform sampler2D image;
void main() {
    colour_out = texture(image, uv);
}
"""

#: Pictures kept as textures: the two of the current fade and one spare.
TEXTURES_KEPT = 3

_IDENTITY = np.eye(3, dtype=np.float32)

#: GL renderers that are software rasterisers (the CPU does the drawing).
SOFTWARE_RENDERERS = ("llvmpipe", "softpipe", "swrast", "software")


class GlWindow(PygameWindow):
    """A pygame window whose frames are drawn by OpenGL.

    Takes the same arguments as :class:`~ganterp.live.display.window.PygameWindow`.

    Attributes
    ----------
    renderer : str
        The GL renderer's name, e.g. ``"NVIDIA H100/PCIe/SSE2"`` or ``"llvmpipe (LLVM 15.0.6)"``.
    uploads : int
        Pictures uploaded as textures so far (each once).
    hud_uploads : int
        Times the HUD panel was redrawn and uploaded.

    Raises
    ------
    DisplayError
        When no window opens, or no OpenGL 3.3 context can be made for it.
    """

    def __init__(self, **kwargs: Any) -> None:
        try:
            import moderngl
        except ImportError as exc:
            raise DisplayError(f"OpenGL drawing needs moderngl ({exc})") from None
        self._mgl = moderngl
        self._ctx: Any = None
        self._textures: dict[int, tuple[np.ndarray, Any]] = {}
        self._hud_key: tuple[HudModel, int] | None = None
        self._hud_texture: Any = None
        self.renderer = ""
        self.uploads = 0
        self.hud_uploads = 0
        super().__init__(**kwargs)

    @property
    def software(self) -> bool:
        """Whether the GL renderer draws on the CPU (Xvfb, a machine without a GPU driver)."""
        name = self.renderer.lower()
        return any(s in name for s in SOFTWARE_RENDERERS)

    # -- the GL context ---------------------------------------------------------------------
    def _open(self) -> None:
        pg = self._pg
        if self._ctx is not None:
            # SDL keeps a GL window's full-screen size when asked for a window (and the
            # reverse), so a new window is made: the old one goes with its context.
            self._release()
            pg.display.quit()
            with quiet_native_stderr():
                pg.display.init()
            pg.display.set_caption(self.title)
        for attr, value in (
            (pg.GL_CONTEXT_MAJOR_VERSION, 3),
            (pg.GL_CONTEXT_MINOR_VERSION, 3),
            (pg.GL_CONTEXT_PROFILE_MASK, pg.GL_CONTEXT_PROFILE_CORE),
            (pg.GL_DOUBLEBUFFER, 1),
        ):
            pg.display.gl_set_attribute(attr, value)
        flags = pg.OPENGL | pg.DOUBLEBUF
        try:
            if self.fullscreen:
                desktop = pg.display.get_desktop_sizes()[self.display]
                pg.display.set_mode(desktop, flags | pg.FULLSCREEN, display=self.display)
            else:
                pg.display.set_mode(self.window_size, flags, display=self.display)
            self._ctx = self._mgl.create_context(require=330)
        except (pg.error, self._mgl.Error, ValueError) as exc:
            raise DisplayError(f"cannot draw with OpenGL: {str(exc).strip()}") from None
        self.size = pg.display.get_window_size()
        self.screen = None
        self._painter = None
        ctx = self._ctx
        self.renderer = str(ctx.info.get("GL_RENDERER", "unknown"))
        self.label = f"OpenGL, {self.renderer}" + (
            " (software: the CPU draws it)" if self.software else ""
        )
        quad = ctx.buffer(np.array([0, 0, 1, 0, 0, 1, 1, 1], dtype="f4").tobytes())
        self._picture = ctx.program(vertex_shader=_VERTEX, fragment_shader=_PICTURE)
        self._picture["previous"] = 0
        self._picture["current"] = 1
        self._overlay = ctx.program(vertex_shader=_VERTEX, fragment_shader=_COPY)
        self._overlay["image"] = 2
        self._scaler = ctx.program(vertex_shader=_VERTEX_UPRIGHT, fragment_shader=_COPY)
        self._scaler["image"] = 3
        self._quad = quad
        self._picture_vao = ctx.vertex_array(self._picture, [(quad, "2f", "pos")])
        self._overlay_vao = ctx.vertex_array(self._overlay, [(quad, "2f", "pos")])
        self._scaler_vao = ctx.vertex_array(self._scaler, [(quad, "2f", "pos")])
        self._mixed: tuple[Any, Any] | None = None  # the picture at its own size: texture, FBO
        ctx.blend_func = self._mgl.SRC_ALPHA, self._mgl.ONE_MINUS_SRC_ALPHA

    def _release(self) -> None:
        """Free every GL object (before the context goes: toggling full screen, closing)."""
        if self._ctx is None:
            return
        for _, texture in self._textures.values():
            texture.release()
        self._textures.clear()
        if self._hud_texture is not None:
            self._hud_texture.release()
        self._hud_texture = None
        self._hud_key = None
        if self._mixed is not None:
            for obj in self._mixed:
                obj.release()
        self._mixed = None
        for obj in (
            self._picture_vao,
            self._overlay_vao,
            self._scaler_vao,
            self._picture,
            self._overlay,
            self._scaler,
            self._quad,
        ):
            obj.release()
        self._ctx.release()
        self._ctx = None

    # -- drawing ----------------------------------------------------------------------------
    def _texture(self, image: np.ndarray) -> Any:
        """The texture holding ``image``, uploading it the first time it is seen."""
        key = id(image)
        hit = self._textures.pop(key, None)
        if hit is not None and hit[0] is image:
            self._textures[key] = hit  # most recently used last
            return hit[1]
        if hit is not None:  # the id of a picture since freed: its texture is stale
            hit[1].release()
        while len(self._textures) >= TEXTURES_KEPT:  # the least recently used goes
            self._textures.pop(next(iter(self._textures)))[1].release()
        h, w = image.shape[:2]
        texture = self._ctx.texture((w, h), 3, np.ascontiguousarray(image).tobytes(), alignment=1)
        texture.filter = self._mgl.LINEAR, self._mgl.LINEAR
        texture.repeat_x = texture.repeat_y = False
        self._textures[key] = (image, texture)  # the reference keeps the id unique
        self.uploads += 1
        return texture

    def _mixed_target(self, size: tuple[int, int]) -> tuple[Any, Any]:
        """The texture the picture is drawn into at ``size``, and its framebuffer."""
        if self._mixed is None or self._mixed[0].size != size:
            if self._mixed is not None:
                for obj in self._mixed:
                    obj.release()
            texture = self._ctx.texture(size, 3)
            texture.filter = self._mgl.LINEAR, self._mgl.LINEAR
            texture.repeat_x = texture.repeat_y = False
            self._mixed = (texture, self._ctx.framebuffer(color_attachments=[texture]))
        return self._mixed

    def _draw(self, frame: Composite, hud: HudModel | None) -> None:
        ctx = self._ctx
        sw, sh = self.size
        ctx.viewport = (0, 0, sw, sh)
        ctx.clear(0.0, 0.0, 0.0, 1.0)
        previous = frame.previous
        current = frame.keyframe.image if frame.keyframe is not None else previous
        weight = frame.weight if frame.keyframe is not None else 0.0
        self._texture(previous).use(0)
        self._texture(current).use(1)
        colour = frame.colour
        matrix = _IDENTITY if colour is None else colour.matrix
        pic = self._picture
        pic["weight"] = float(weight)
        # numpy's rows are GLSL's columns: the shader's ``colour * c`` is ``c @ matrix``.
        pic["colour"].write(np.ascontiguousarray(matrix, dtype=np.float32).tobytes())
        pic["offset"] = 0.0 if colour is None else float(colour.offset) / 255.0
        pic["keep"] = 1.0 - float(frame.black)
        # First the picture at its own size (a few hundred pixels square: cheap even
        # for a software renderer), then one filtered read per screen pixel to scale it.
        h, w = previous.shape[:2]
        mixed = self._mixed_target((w, h))
        mixed[1].use()
        ctx.viewport = (0, 0, w, h)
        self._picture_vao.render(self._mgl.TRIANGLE_STRIP)
        ctx.screen.use()
        x, y, fw, fh = fit((w, h), (sw, sh))
        ctx.viewport = (x, sh - y - fh, fw, fh)  # GL counts rows from the bottom
        mixed[0].use(3)
        self._scaler_vao.render(self._mgl.TRIANGLE_STRIP)
        if hud is not None:
            self._draw_hud(hud)

    def _draw_hud(self, hud: HudModel) -> None:
        painter = self._painter
        if painter is None:
            painter = HudPainter(self._hud_scale or max(0.75, self.size[1] / 720))
            self._painter = painter
        key = (hud, id(painter))
        if key != self._hud_key or self._hud_texture is None:
            panel = painter.panel(hud)
            data = self._pg.image.tobytes(panel, "RGBA")
            size = panel.get_size()
            if self._hud_texture is None or self._hud_texture.size != size:
                if self._hud_texture is not None:
                    self._hud_texture.release()
                self._hud_texture = self._ctx.texture(size, 4, data)
                self._hud_texture.filter = self._mgl.NEAREST, self._mgl.NEAREST
            else:
                self._hud_texture.write(data)
            self._hud_key = key
            self.hud_uploads += 1
        pw, ph = self._hud_texture.size
        px, py = painter.origin
        ctx = self._ctx
        ctx.viewport = (px, self.size[1] - py - ph, pw, ph)
        self._hud_texture.use(2)
        ctx.enable(self._mgl.BLEND)
        self._overlay_vao.render(self._mgl.TRIANGLE_STRIP)
        ctx.disable(self._mgl.BLEND)

    def present(self, frame: Composite, hud: HudModel | None) -> None:
        """Draw ``frame`` (and the HUD) through the GPU and swap."""
        self._draw(frame, hud)
        self._pg.display.flip()

    def read_frame(self, frame: Composite, hud: HudModel | None = None) -> np.ndarray:
        """Draw ``frame`` without showing it and return the pixels, shape (H, W, 3), uint8."""
        self._draw(frame, hud)
        ctx = self._ctx
        ctx.viewport = (0, 0, *self.size)
        raw = ctx.screen.read(viewport=(0, 0, *self.size), components=3, alignment=1)
        shot = np.frombuffer(raw, np.uint8).reshape(self.size[1], self.size[0], 3)
        return np.ascontiguousarray(shot[::-1])

    def close(self) -> None:
        """Free the GL objects and close the window."""
        self._release()
        self._pg.display.quit()
