"""Frame-sharing outputs of the desktop: Syphon (macOS), Spout (Windows), a virtual camera.

Each is an :class:`ganterp.live.video.sink.Output` behind a
:class:`ganterp.live.video.sink.ThreadedSink`, like NDI: the picture is scaled
and converted by FFmpeg's scaler on the sink's thread and handed to the
platform's library, imported only when asked for:

- Syphon through ``syphon-python`` (extra ``syphon``, macOS): a Metal server,
  the frame copied into its texture each time;
- Spout through ``SpoutGL`` (extra ``spout``, Windows): ``sendImage`` of RGBA
  pixels (Spout shares them through its texture or memory path);
- a virtual camera through ``pyvirtualcam`` (extra ``camera``): v4l2loopback on
  Linux, OBS's virtual camera on Windows and macOS, for video-call and
  streaming programs.

The libraries are passed in (``library=``), so everything around them is tested
with stand-ins on any platform; the real libraries need their platform (and, for
the camera on Linux, the v4l2loopback kernel module).
"""

from __future__ import annotations

import importlib
import sys
from types import ModuleType
from typing import Any

import numpy as np

from ganterp.live.core.errors import ConfigError
from ganterp.live.video.fit import FrameFitter, check_frame_size, packed_pixels

#: OpenGL's RGBA pixel format constant (``GL_RGBA``), what SpoutGL's ``sendImage`` takes.
GL_RGBA = 0x1908


def load_library(module: str, extra: str, platform: str | None, what: str) -> ModuleType:
    """Import a platform's frame-sharing library, or say in one line why it cannot be had.

    Parameters
    ----------
    module : str
        The module to import.
    extra : str
        The ganterp extra that installs it.
    platform : str or None
        The ``sys.platform`` it needs (None: any).
    what : str
        Its name for the message, e.g. ``"Syphon"``.

    Raises
    ------
    ConfigError
        On another platform, or when the library is not installed.
    """
    if platform is not None and sys.platform != platform:
        names = {"darwin": "macOS", "win32": "Windows"}
        raise ConfigError(f"{what} is only on {names.get(platform, platform)}, not {sys.platform}")
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ConfigError(
            f"{what} needs the {extra} extra: pip install 'ganterp[{extra}]' ({exc})"
        ) from None


class _Fitted:
    """The shared part: a name, a size, and FFmpeg's scaler into one packed format."""

    def __init__(self, label: str, size: tuple[int, int], pix_fmt: str, what: str) -> None:
        self.label = label
        self.width, self.height = check_frame_size(size, what)
        self._fitter = FrameFitter((self.width, self.height), pix_fmt)
        self._bytes = 4 if pix_fmt == "rgba" else 3

    def _pixels(self, image: np.ndarray) -> np.ndarray:
        """The picture scaled into the frame, shape (height, width, 3 or 4), uint8."""
        flat = packed_pixels(self._fitter.fit(image))
        return flat.reshape(self.height, self.width, self._bytes)


class SyphonOutput(_Fitted):
    """A Syphon Metal server (macOS): ``syphon.SyphonMetalServer`` and a texture it publishes.

    Parameters
    ----------
    name : str
        The server's name in Syphon clients.
    size : (int, int)
        Texture width and height, pixels.
    library : module, optional
        ``syphon`` with its ``utils.numpy`` and ``utils.raw`` (default: imported on macOS).
    """

    def __init__(self, name: str, *, size: tuple[int, int], library: Any = None) -> None:
        super().__init__(f"Syphon {name}", size, "rgba", "syphon.size")
        self.name = name
        self.syphon = library if library is not None else self.load()
        self._server: Any = None
        self._texture: Any = None

    @staticmethod
    def load() -> Any:
        """Import ``syphon`` and its helpers (macOS, extra ``syphon``)."""
        syphon = load_library("syphon", "syphon", "darwin", "Syphon")
        load_library("syphon.utils.numpy", "syphon", "darwin", "Syphon")
        load_library("syphon.utils.raw", "syphon", "darwin", "Syphon")
        return syphon

    def open(self) -> None:
        """Start the server and make its texture."""
        self._server = self.syphon.SyphonMetalServer(self.name)
        self._texture = self.syphon.utils.raw.create_mtl_texture(
            self._server.device, self.width, self.height
        )

    def send(self, now: float, image: np.ndarray) -> None:
        """Copy the picture into the texture and publish it."""
        self.syphon.utils.numpy.copy_image_to_mtl_texture(self._pixels(image), self._texture)
        self._server.publish_frame_texture(self._texture)

    def detail(self) -> str:
        """Whether a client is watching."""
        server = self._server
        return "watched" if server is not None and server.has_clients else "no clients"

    def close(self) -> None:
        """Stop the server."""
        server, self._server = self._server, None
        if server is not None:
            server.stop()


class SpoutOutput(_Fitted):
    """A Spout sender (Windows) through ``SpoutGL.SpoutSender``.

    Parameters
    ----------
    name : str
        The sender's name in Spout receivers.
    size : (int, int)
        Frame width and height, pixels.
    library : module, optional
        ``SpoutGL`` (default: imported on Windows).
    """

    def __init__(self, name: str, *, size: tuple[int, int], library: Any = None) -> None:
        super().__init__(f"Spout {name}", size, "rgba", "spout.size")
        self.name = name
        self.spout = library if library is not None else self.load()
        self._sender: Any = None

    @staticmethod
    def load() -> Any:
        """Import ``SpoutGL`` (Windows, extra ``spout``)."""
        return load_library("SpoutGL", "spout", "win32", "Spout")

    def open(self) -> None:
        """Make the sender and give it its name."""
        self._sender = self.spout.SpoutSender()
        self._sender.setSenderName(self.name)

    def send(self, now: float, image: np.ndarray) -> None:
        """Send the picture as RGBA, top row first."""
        pixels = self._pixels(image)
        if not self._sender.sendImage(pixels, self.width, self.height, GL_RGBA, False, 0):
            raise RuntimeError("Spout refused the frame")

    def detail(self) -> str:
        """Nothing to add (Spout does not count its receivers)."""
        return ""

    def close(self) -> None:
        """Release the sender."""
        sender, self._sender = self._sender, None
        if sender is not None:
            sender.releaseSender()


class VirtualCameraOutput(_Fitted):
    """A virtual camera through ``pyvirtualcam.Camera`` (RGB frames).

    Parameters
    ----------
    device : str
        The camera device (e.g. ``/dev/video10``; '' for the library's default).
    size : (int, int)
        Frame width and height, pixels.
    fps : float
        The camera's frame rate, frames/s.
    library : module, optional
        ``pyvirtualcam`` (default: imported now).
    """

    def __init__(
        self, device: str, *, size: tuple[int, int], fps: float, library: Any = None
    ) -> None:
        super().__init__("virtual camera", size, "rgb24", "virtual_camera.size")
        self.device = device
        self.fps = float(fps)
        self.cam_lib = library if library is not None else self.load()
        self._camera: Any = None

    @staticmethod
    def load() -> Any:
        """Import ``pyvirtualcam`` (extra ``camera``)."""
        return load_library("pyvirtualcam", "camera", None, "The virtual camera")

    def open(self) -> None:
        """Open the camera device (the library says why it cannot: no v4l2loopback, …)."""
        self._camera = self.cam_lib.Camera(
            width=self.width,
            height=self.height,
            fps=self.fps,
            fmt=self.cam_lib.PixelFormat.RGB,
            device=self.device or None,
        )

    def send(self, now: float, image: np.ndarray) -> None:
        """Send one RGB frame."""
        self._camera.send(self._pixels(image))

    def detail(self) -> str:
        """The device in use."""
        camera = self._camera
        return str(camera.device) if camera is not None else ""

    def close(self) -> None:
        """Close the device."""
        camera, self._camera = self._camera, None
        if camera is not None:
            camera.close()
