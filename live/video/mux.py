"""One video file being written: picture and sound muxed under a partial name.

Both the show's recorder and the offline render write through :class:`Muxer`:
H.264 + AAC in ``.mp4`` (fragmented on request, so a file cut short still
plays) or Motion JPEG + 16-bit PCM in ``.avi``. The file is written as
``NAME.partial.EXT`` (:func:`ganterp.live.core.paths.partial_path`) and takes its final
name only in :meth:`Muxer.publish`, so a broken file never sits under the final
name.
"""

from __future__ import annotations

import contextlib
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from ganterp.live.audio.channels import to_mono
from ganterp.live.core.errors import RecordError
from ganterp.live.core.paths import partial_path
from ganterp.live.settings.schema import X264_DEFAULT, X264_PRESETS

#: Sample rates AAC encoders accept.
AAC_RATES = (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000, 64000, 88200, 96000)

CONTAINERS = {
    ".mp4": ("mp4", "libx264", "yuv420p", "aac"),
    ".avi": ("avi", "mjpeg", "yuvj420p", "pcm_s16le"),
}
"""Extension → (container, video codec, pixel format, audio codec)."""

#: Samples per audio frame handed to the encoder: AAC takes exactly 1024.
CHUNK = {"aac": 1024, "pcm_s16le": 2048}

#: MP4 flags for a file that plays even when the program dies mid-way.
FRAGMENTED = {"movflags": "frag_keyframe+empty_moov+default_base_moof"}


class Muxer:
    """Encode RGB frames and float audio into one file.

    Parameters
    ----------
    path : Path
        Final file name; its extension picks the container (see ``suffixes``).
    fps : float
        Frame rate, 1/s.
    size : (int, int)
        Width and height, pixels (rounded down to even numbers; frames are scaled).
    audio_rate : int, optional
        Sample rate of the sound, Hz (None: a silent video). For AAC it must
        be one of :data:`AAC_RATES`.
    audio_channels : int
        1 or 2.
    crf : int
        H.264 quality (lower is better).
    preset : str
        H.264 encoding speed, one of :data:`X264_PRESETS`.
    fragmented : bool
        Write a fragmented MP4.
    threads : int
        Encoder threads (0: as many as it likes; the show's recorder takes 1).
    suffixes : tuple of str
        The extensions this caller offers.

    Raises
    ------
    RecordError
        For another extension, a missing folder, or a file that cannot be created.
    """

    def __init__(
        self,
        path: Path,
        *,
        fps: float,
        size: tuple[int, int],
        audio_rate: int | None = None,
        audio_channels: int = 2,
        crf: int = 18,
        preset: str = X264_DEFAULT,
        fragmented: bool = False,
        threads: int = 0,
        suffixes: tuple[str, ...] = (".mp4", ".avi"),
    ) -> None:
        self.path = Path(path)
        suffix = self.path.suffix.lower()
        if suffix not in suffixes or suffix not in CONTAINERS:
            raise RecordError(f"{self.path}: the video must be a {' or '.join(suffixes)} file")
        if not self.path.parent.is_dir():
            raise RecordError(f"cannot write {self.path}: folder {self.path.parent} does not exist")
        fmt, vcodec, pix_fmt, acodec = CONTAINERS[suffix]
        if audio_rate is not None and acodec == "aac" and audio_rate not in AAC_RATES:
            raise RecordError(f"{self.path}: AAC cannot carry {audio_rate} Hz")
        if preset not in X264_PRESETS:
            raise RecordError(
                f"H.264 preset must be one of {', '.join(X264_PRESETS)}, not {preset}"
            )
        self.fps = float(fps)
        self.width, self.height = int(size[0]) // 2 * 2, int(size[1]) // 2 * 2
        self.partial = partial_path(self.path)
        self.frames = 0
        self.audio_samples = 0
        options = FRAGMENTED if fragmented and fmt == "mp4" else {}
        try:
            self._container = av.open(str(self.partial), mode="w", format=fmt, options=options)
        except (OSError, av.error.FFmpegError) as exc:
            raise RecordError(f"cannot write {self.path}: {exc}") from None
        self._rate = Fraction(self.fps).limit_denominator(1001)
        self._video = self._container.add_stream(vcodec, rate=self._rate)
        self._video.width, self._video.height = self.width, self.height
        self._video.pix_fmt = pix_fmt
        if vcodec == "libx264":
            self._video.options = {"crf": str(crf), "preset": preset}
        else:
            self._video.codec_context.qmin = self._video.codec_context.qmax = 3
        if threads:
            self._video.codec_context.thread_count = threads
        self._audio = None
        self.audio_rate = audio_rate
        self.audio_channels = 2 if audio_channels >= 2 else 1
        self._pending = np.zeros((0, self.audio_channels), dtype=np.float32)
        if audio_rate is not None:
            self._audio = self._container.add_stream(acodec, rate=audio_rate)
            self._audio.layout = "stereo" if self.audio_channels == 2 else "mono"
            self._format = "fltp" if acodec == "aac" else "s16"
            self._chunk = CHUNK[acodec]

    @property
    def audio_received(self) -> int:
        """Samples given to :meth:`write_audio` so far (written or waiting)."""
        return self.audio_samples + self._pending.shape[0]

    def write_video(self, image: np.ndarray, index: int | None = None) -> None:
        """Encode one frame.

        Parameters
        ----------
        image : np.ndarray, shape (H, W, 3), uint8
            RGB pixels (scaled to the video's size).
        index : int, optional
            Frame number (its time is ``index / fps``); defaults to the next.
        """
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="rgb24")
        self.write_frame(
            frame.reformat(
                width=self.width,
                height=self.height,
                format=self._video.pix_fmt,
                interpolation="BICUBIC",
            ),
            index,
        )

    @property
    def pix_fmt(self) -> str:
        """The encoder's pixel format (what :meth:`write_frame` takes)."""
        return str(self._video.pix_fmt)

    def write_frame(self, frame: av.VideoFrame, index: int | None = None) -> None:
        """Encode one frame already at the video's size and in :attr:`pix_fmt`.

        Parameters
        ----------
        frame : av.VideoFrame
            ``width`` × ``height`` pixels (see :class:`ganterp.live.video.fit.FrameFitter`).
        index : int, optional
            Frame number (its time is ``index / fps``); defaults to the next.

        Raises
        ------
        ValueError
            For a frame of another size or format.
        """
        if (frame.width, frame.height, frame.format.name) != (
            self.width,
            self.height,
            self.pix_fmt,
        ):
            raise ValueError(
                f"frame is {frame.width}x{frame.height} {frame.format.name},"
                f" the video {self.width}x{self.height} {self.pix_fmt}"
            )
        frame.pts = self.frames if index is None else index
        frame.time_base = 1 / self._rate  # pts counts frames
        for packet in self._video.encode(frame):
            self._container.mux(packet)
        self.frames += 1

    def write_audio(self, block: np.ndarray) -> None:
        """Add sound; whole encoder frames are written, the rest waits.

        Parameters
        ----------
        block : np.ndarray, shape (n, channels), float
            Samples in [-1, 1]; extra channels are dropped (a mono file gets their mean).
        """
        if self._audio is None or block.shape[0] == 0:
            return
        if block.shape[1] != self.audio_channels:
            if self.audio_channels == 2:
                block = block[:, :2] if block.shape[1] >= 2 else np.repeat(block, 2, axis=1)
            else:
                block = to_mono(block)[:, None]
        self._pending = np.concatenate([self._pending, block.astype(np.float32, copy=False)])
        self._flush_audio(whole_frames=True)

    def _flush_audio(self, *, whole_frames: bool) -> None:
        assert self._audio is not None
        n = self._pending.shape[0]
        if whole_frames:
            n = n // self._chunk * self._chunk
        for start in range(0, n, self._chunk):
            chunk = self._pending[start : start + self._chunk]
            if self._format == "fltp":
                data = np.ascontiguousarray(chunk.T)
            else:
                data = (np.clip(chunk, -1.0, 1.0) * 32767).astype(np.int16).reshape(1, -1)
            frame = av.AudioFrame.from_ndarray(
                data, format=self._format, layout=self._audio.layout.name
            )
            frame.sample_rate = self.audio_rate
            frame.pts = self.audio_samples
            self.audio_samples += chunk.shape[0]
            for packet in self._audio.encode(frame):
                self._container.mux(packet)
        self._pending = self._pending[n:]

    def finish(self) -> None:
        """Write the waiting sound, flush the encoders and close the partial file.

        Raises
        ------
        RecordError
            When the file cannot be finished (a full disk); the partial file stays.
        """
        try:
            if self._audio is not None:
                self._flush_audio(whole_frames=False)
                for packet in self._audio.encode(None):
                    self._container.mux(packet)
            for packet in self._video.encode(None):
                self._container.mux(packet)
            self._container.close()
        except (OSError, av.error.FFmpegError, ValueError) as exc:
            self.close_quietly()
            raise RecordError(f"cannot finish {self.path}: {exc}") from None

    def publish(self) -> Path:
        """Give the finished file its final name; return it."""
        self.partial.replace(self.path)
        return self.path

    def close_quietly(self) -> None:
        """Close the file after a failure, ignoring further errors; the partial file stays."""
        with contextlib.suppress(Exception):
            self._container.close()

    def discard(self) -> None:
        """Close the file and delete it."""
        self.close_quietly()
        self.partial.unlink(missing_ok=True)
