"""Square pictures into video frames of any size: FFmpeg's scaler, aspect kept, black bars.

The generator paints a square; a video is usually wider. Each picture goes
through one FFmpeg filter graph, ``scale`` (bicubic, straight into the encoder's
pixel format, to the largest square that fits) then ``pad`` (black bars), so the
whole job runs in FFmpeg's C code without the interpreter lock: several times
cheaper than scaling RGB in torch and converting afterwards, and it can run
beside the generator.
"""

from __future__ import annotations

import itertools
from fractions import Fraction

import av
import av.filter
import numpy as np

from ganterp.live.core.errors import ConfigError

#: Pixel formats the fitted frames can have: the encoders' 4:2:0 formats and the
#: packed ones the outputs send (NDI's BGRX, BGRA and UYVY; RGBA for shared
#: textures; RGB for virtual cameras).
PIX_FMTS = ("yuv420p", "yuvj420p", "bgr0", "bgra", "rgba", "rgb24", "uyvy422")

#: Bytes per pixel of the packed formats.
PACKED_BYTES = {"bgr0": 4, "bgra": 4, "rgba": 4, "rgb24": 3, "uyvy422": 2}

#: Where FFmpeg's ``pad`` cannot draw into a packed format, the bars are padded in
#: its planar twin and converted after.
_PAD_IN = {"uyvy422": "yuv422p"}


def check_frame_size(size: tuple[int, int], what: str) -> tuple[int, int]:
    """An output's frame size rounded down to even numbers, or one line for one out of range.

    Parameters
    ----------
    size : (int, int)
        Width and height, pixels.
    what : str
        The setting it came from, for the message (e.g. ``"ndi.size"``).

    Raises
    ------
    ConfigError
        Below 16x16 or above 7680x4320.
    """
    width, height = int(size[0]) // 2 * 2, int(size[1]) // 2 * 2
    if not (16 <= width <= 7680 and 16 <= height <= 4320):
        raise ConfigError(f"{what}: {size[0]}x{size[1]} is out of range (16x16 to 7680x4320)")
    return width, height


def placement(size: tuple[int, int]) -> tuple[int, int, int]:
    """Where the square picture sits in a frame of ``size``.

    Parameters
    ----------
    size : (int, int)
        Frame width and height, pixels (even).

    Returns
    -------
    (int, int, int)
        Side of the square, its top row and its left column, all even (so the
        4:2:0 chroma planes line up), pixels.
    """
    width, height = size
    side = min(width, height) // 2 * 2
    return side, (height - side) // 4 * 2, (width - side) // 4 * 2


class FrameFitter:
    """Scale RGB pictures into encoder-ready frames of one size and pixel format.

    Parameters
    ----------
    size : (int, int)
        Frame width and height, pixels (even numbers).
    pix_fmt : str
        One of :data:`PIX_FMTS`.

    Raises
    ------
    ValueError
        For another pixel format or an odd size.
    """

    def __init__(self, size: tuple[int, int], pix_fmt: str) -> None:
        if pix_fmt not in PIX_FMTS:
            raise ValueError(f"cannot fit frames into {pix_fmt}; only {', '.join(PIX_FMTS)}")
        width, height = int(size[0]), int(size[1])
        if width % 2 or height % 2 or width < 2 or height < 2:
            raise ValueError(f"frame size {width}x{height} must be even and non-zero")
        self.width, self.height = width, height
        self.pix_fmt = pix_fmt
        self.side, self.top, self.left = placement((width, height))
        self._shape: tuple[int, int] | None = None
        self._count = 0

    def _build(self, height: int, width: int) -> None:
        graph = av.filter.Graph()
        graph.threads = 1  # the callers choose their own threads (the recorder: one)
        source = graph.add_buffer(
            width=width, height=height, format="rgb24", time_base=Fraction(1, 1)
        )
        chain = [
            source,
            graph.add("scale", f"{self.side}:{self.side}:flags=bicubic"),
            graph.add("format", _PAD_IN.get(self.pix_fmt, self.pix_fmt)),
            graph.add("pad", f"{self.width}:{self.height}:{self.left}:{self.top}:black"),
        ]
        if self.pix_fmt in _PAD_IN:
            chain.append(graph.add("format", self.pix_fmt))
        chain.append(graph.add("buffersink"))
        for a, b in itertools.pairwise(chain):
            a.link_to(b)
        graph.configure()
        self._graph, self._source, self._sink = graph, source, chain[-1]  # the graph owns both
        self._shape = (height, width)

    def fit(self, rgb: np.ndarray) -> av.VideoFrame:
        """Make one frame.

        Parameters
        ----------
        rgb : np.ndarray, shape (h, w, 3), uint8
            The picture; the generator's are square (another shape is scaled to
            the square too).

        Returns
        -------
        av.VideoFrame
            ``width`` × ``height`` in ``pix_fmt``, the picture centred on black.
        """
        if self._shape != rgb.shape[:2]:
            self._build(*rgb.shape[:2])
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
        frame.pts, frame.time_base = self._count, Fraction(1, 1)
        self._count += 1
        self._source.push(frame)
        out = self._sink.pull()
        out.pts = None
        return out


def packed_pixels(frame: av.VideoFrame) -> np.ndarray:
    """The pixels of a frame in a packed format, row after row without padding.

    Parameters
    ----------
    frame : av.VideoFrame
        A frame in one of :data:`PACKED_BYTES`' formats.

    Returns
    -------
    np.ndarray, shape (height * width * bytes per pixel,), uint8
        A view of the frame's memory where its rows have no padding, else a copy.

    Raises
    ------
    ValueError
        For a planar format.
    """
    name = frame.format.name
    if name not in PACKED_BYTES:
        raise ValueError(f"{name} is not a packed pixel format")
    plane = frame.planes[0]
    row = frame.width * PACKED_BYTES[name]
    rows = np.frombuffer(plane, dtype=np.uint8).reshape(frame.height, plane.line_size)
    if plane.line_size == row:
        return rows.reshape(-1)
    return np.ascontiguousarray(rows[:, :row]).reshape(-1)
