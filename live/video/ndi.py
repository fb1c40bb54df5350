"""NDI video out: the program picture (and, if asked, its sound) as a source on the network.

Built on ``cyndilib`` (the ``ndi`` extra), whose wheel carries the NDI runtime.
Each frame is scaled and converted by FFmpeg's scaler into a pixel format NDI
takes natively (UYVY 4:2:2, BGRX or BGRA) on the sink's thread and handed to
the NDI library, which compresses and sends it on threads of its own. Every
frame carries a small XML metadata element, ``<ganterp shown="…" frame="…"/>``:
the wall-clock time at which the display showed it and its number, so that a
receiver can measure latency and count losses.

NDI® is a registered trademark of Vizrt NDI AB; the runtime in ``cyndilib``'s
wheel is under the NDI SDK licence (see the README).
"""

from __future__ import annotations

import importlib
import time
from collections import deque
from fractions import Fraction
from types import ModuleType
from typing import Any

import numpy as np

from ganterp.live.audio.ring import AudioRing
from ganterp.live.core.clock import Clock
from ganterp.live.core.errors import ConfigError
from ganterp.live.video.fit import FrameFitter, check_frame_size, packed_pixels

#: ``ndi.pixel_format`` → (FFmpeg's pixel format, NDI's FourCC name).
PIXEL_FORMATS = {"uyvy": ("uyvy422", "UYVY"), "bgrx": ("bgr0", "BGRX"), "bgra": ("bgra", "BGRA")}

#: How often the number of receivers is asked for, seconds.
RECEIVERS_EVERY_S = 0.5

#: Most audio frames sent with one video frame.
AUDIO_CHUNK = 8192

#: Frames remembered in :attr:`NdiOutput.sent`.
SENT_LOG = 20_000


def load_cyndilib() -> dict[str, ModuleType]:
    """Import the parts of ``cyndilib`` the output uses.

    Raises
    ------
    ConfigError
        With the install line, when the ``ndi`` extra is not installed.
    """
    try:
        return {
            name: importlib.import_module(f"cyndilib.{name}")
            for name in ("sender", "video_frame", "audio_frame", "wrapper.ndi_structs")
        }
    except ImportError as exc:
        raise ConfigError(
            f"NDI output needs the ndi extra: pip install 'ganterp[ndi]' ({exc})"
        ) from None


def frame_metadata(shown_wall_s: float, frame: int) -> bytes:
    """The XML element each frame carries.

    Parameters
    ----------
    shown_wall_s : float
        When the display showed the frame, seconds since the epoch.
    frame : int
        The frame's number, from 0.
    """
    return f'<ganterp shown="{shown_wall_s:.6f}" frame="{frame}"/>'.encode()


class NdiOutput:
    """Publishes frames as an NDI source; an :class:`ganterp.live.video.sink.Output`.

    Parameters
    ----------
    name : str
        The source's name (receivers list it as ``HOST (name)``).
    size : (int, int)
        Frame width and height, pixels (rounded down to even numbers).
    clock : Clock
        The show's clock (to stamp each frame with the wall-clock time it was shown).
    fps : float
        The frame rate announced to receivers, frames/s.
    pixel_format : str
        One of :data:`PIXEL_FORMATS`.
    groups : str
        NDI groups, comma-separated ('' for the public group).
    audio : AudioRing, optional
        Send this ring's sound with the picture, from the moment the output opens.
    ndi : dict, optional
        The ``cyndilib`` modules (default: imported now, see :func:`load_cyndilib`).

    Raises
    ------
    ConfigError
        For an unknown pixel format, a size too small, or no ``cyndilib``.
    """

    def __init__(
        self,
        name: str,
        *,
        size: tuple[int, int],
        clock: Clock,
        fps: float = 60.0,
        pixel_format: str = "uyvy",
        groups: str = "",
        audio: AudioRing | None = None,
        ndi: dict[str, ModuleType] | None = None,
    ) -> None:
        width, height = self.check(size, pixel_format)
        self.ndi = ndi if ndi is not None else load_cyndilib()
        self.name = name
        self.label = f"NDI {name}"
        self.width, self.height = width, height
        self.clock = clock
        self.fps = Fraction(float(fps)).limit_denominator(1001)
        self.pixel_format = pixel_format
        self.groups = groups
        self.audio_ring = audio
        ffmpeg_format, _ = PIXEL_FORMATS[pixel_format]
        self._fitter = FrameFitter((width, height), ffmpeg_format)
        self._sender: Any = None
        self._video: Any = None
        self._audio: Any = None
        self._reader: Any = None
        self._frames = 0
        self._receivers = 0
        self._asked_at = -1e9
        #: ``(frame, shown clock time, wall time handed to NDI)`` of recent frames, seconds:
        #: what a receiver's NDI time stamps are matched against (bench, tests).
        self.sent: deque[tuple[int, float, float]] = deque(maxlen=SENT_LOG)
        #: The sink thread's CPU time per frame, ms (the NDI library's own threads excluded).
        self.send_cpu_ms: deque[float] = deque(maxlen=SENT_LOG)

    @staticmethod
    def check(size: tuple[int, int], pixel_format: str) -> tuple[int, int]:
        """Check a size and a pixel format; return the size rounded down to even numbers.

        Raises
        ------
        ConfigError
            For an unknown pixel format or a size too small or too large.
        """
        NdiOutput.check_pixel_format(pixel_format)
        return check_frame_size(size, "ndi.size")

    @staticmethod
    def check_pixel_format(pixel_format: str) -> None:
        """Raise a one-line :class:`ConfigError` for a pixel format NDI is not sent in."""
        if pixel_format not in PIXEL_FORMATS:
            raise ConfigError(
                f"ndi.pixel_format: {pixel_format!r} is not one of {', '.join(PIXEL_FORMATS)}"
            )

    # -- the Output protocol --------------------------------------------------------------
    def open(self) -> None:
        """Create the NDI sender and announce the source."""
        sender_mod = self.ndi["sender"]
        video_mod = self.ndi["video_frame"]
        structs = self.ndi["wrapper.ndi_structs"]
        _, fourcc = PIXEL_FORMATS[self.pixel_format]
        sender = sender_mod.Sender(
            self.name, ndi_groups=self.groups, clock_video=False, clock_audio=False
        )
        video = video_mod.VideoSendFrame()
        video.set_resolution(self.width, self.height)
        video.set_frame_rate(self.fps)
        video.set_fourcc(getattr(structs.FourCC, fourcc))
        sender.set_video_frame(video)
        if self.audio_ring is not None:
            audio = self.ndi["audio_frame"].AudioSendFrame(max_num_samples=AUDIO_CHUNK)
            audio.sample_rate = self.audio_ring.sample_rate
            audio.num_channels = self.audio_ring.channels
            sender.set_audio_frame(audio)
            self._audio = audio
            self._reader = self.audio_ring.reader()
        self._sender, self._video = sender, video
        sender.open()
        self._asked_at = -1e9

    def send(self, now: float, image: np.ndarray) -> None:
        """Scale, convert and send one picture (and the sound since the last one)."""
        started = time.thread_time()
        pixels = packed_pixels(self._fitter.fit(image))
        shown_wall = time.time() - (self.clock.now() - now)
        self._video.set_metadata(frame_metadata(shown_wall, self._frames))
        sound = self._sound()
        self.sent.append((self._frames, now, time.time()))
        if sound is not None and sound.shape[1] > 0:
            ok = self._sender.write_video_and_audio(pixels, sound)
        else:
            ok = self._sender.write_video_async(pixels)
        if not ok:
            raise RuntimeError("the NDI sender is not running")
        self._frames += 1
        if now - self._asked_at >= RECEIVERS_EVERY_S:
            self._receivers = int(self._sender.get_num_connections(0))
            self._asked_at = now
        self.send_cpu_ms.append((time.thread_time() - started) * 1000.0)

    def detail(self) -> str:
        """How many receivers are connected (as last asked)."""
        n = self._receivers
        return f"{n} receiver{'s' if n != 1 else ''}"

    def close(self) -> None:
        """Withdraw the source."""
        sender, self._sender = self._sender, None
        if sender is not None:
            sender.close()
        self._receivers = 0

    # -- sound ------------------------------------------------------------------------------
    def _sound(self) -> np.ndarray | None:
        """The sound since the last frame, shape (channels, n), float32 (None: no audio)."""
        if self._reader is None:
            return None
        _, block = self._reader.read(AUDIO_CHUNK)
        return np.ascontiguousarray(block.T, dtype=np.float32)
