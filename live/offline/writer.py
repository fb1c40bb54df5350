"""Writing a rendered video with the input's sound, in sync, safely.

Frame ``k`` covers ``[k / fps, (k + 1) / fps)``; after each frame the writer
muxes the input's audio up to the frame's end, so sound and picture start at
t = 0 together and stay interleaved (the file never holds minutes of audio
waiting for video). ``.mp4`` is H.264 + AAC, written under ``NAME.partial.mp4``
and renamed when done; an interruption or an error closes it properly, so the
partial file plays. It is a plain MP4, not a fragmented one, because only a
plain MP4 carries the edit list that hides AAC's encoder delay: with it the
sound's duration equals the picture's (fragmented, the sound runs ~2 frames
long). ``.avi`` is Motion JPEG + 16-bit PCM (the original's format, with
sound), whose partial file is deleted on failure since an AVI without its
index does not play everywhere. A killed process can leave an unfinished
``NAME.partial.mp4``, never a broken file under the final name.
"""

from __future__ import annotations

import contextlib
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from live.audio.decode import AudioDecoder
from live.core.errors import RecordError
from live.core.paths import partial_path

#: Sample rates AAC encoders accept.
AAC_RATES = (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000, 64000, 88200, 96000)

CONTAINERS = {
    ".mp4": ("mp4", "libx264", "yuv420p", "aac"),
    ".avi": ("avi", "mjpeg", "yuvj420p", "pcm_s16le"),
}
"""Extension → (container, video codec, pixel format, audio codec)."""


class VideoWriter:
    """Encode frames and the input's audio into a video file.

    Parameters
    ----------
    path : Path
        Final file name; ``.mp4`` or ``.avi``.
    fps : float
        Frame rate.
    size : (int, int)
        Width and height in pixels (even numbers; frames are resized to it).
    audio : Path, optional
        File whose sound goes with the picture (all of it, up to 2 channels).
    crf : int
        H.264 quality (lower is better).

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
        audio: Path | None = None,
        crf: int = 18,
    ) -> None:
        self.path = Path(path)
        kind = CONTAINERS.get(self.path.suffix.lower())
        if kind is None:
            raise RecordError(f"{self.path}: videos are .mp4 or .avi files")
        if not self.path.parent.is_dir():
            raise RecordError(f"{self.path}: folder {self.path.parent} does not exist")
        fmt, vcodec, pix_fmt, acodec = kind
        self.fps = float(fps)
        self.width, self.height = (int(size[0]) // 2 * 2, int(size[1]) // 2 * 2)
        self.partial = partial_path(self.path)
        self.frames = 0
        self.audio_samples = 0
        try:
            self._container = av.open(str(self.partial), mode="w", format=fmt)
        except (OSError, av.error.FFmpegError) as exc:
            raise RecordError(f"cannot write {self.path}: {exc}") from None
        self._video = self._container.add_stream(
            vcodec, rate=Fraction(self.fps).limit_denominator(1001)
        )
        self._video.width, self._video.height = self.width, self.height
        self._video.pix_fmt = pix_fmt
        if vcodec == "libx264":
            self._video.options = {"crf": str(crf), "preset": "veryfast"}
        else:
            self._video.codec_context.qmin = self._video.codec_context.qmax = 3
        self._decoder: AudioDecoder | None = None
        self._audio = None
        if audio is not None:
            self._open_audio(audio, acodec)

    def _open_audio(self, audio: Path, codec: str) -> None:
        probe = AudioDecoder(audio)
        rate = probe.sample_rate
        if codec == "aac" and rate not in AAC_RATES:
            probe.close()
            probe = AudioDecoder(audio, sample_rate=48000)
            rate = 48000
        self._decoder = probe
        self._channels = min(probe.channels, 2)
        self._rate = rate
        self._audio = self._container.add_stream(codec, rate=rate)
        self._audio.layout = "stereo" if self._channels == 2 else "mono"
        self._format = "fltp" if codec == "aac" else "s16"
        # AAC takes whole frames of 1024 samples; PCM any length.
        self._chunk = 1024 if codec == "aac" else 2048
        self._pending = np.zeros((0, self._channels), dtype=np.float32)
        self._exhausted = False

    def write(self, image: np.ndarray) -> None:
        """Add the next frame (``(H, W, 3)`` uint8 RGB) and the sound under it."""
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="rgb24")
        frame = frame.reformat(
            width=self.width,
            height=self.height,
            format=self._video.pix_fmt,
            interpolation="BICUBIC",
        )
        frame.pts = self.frames
        for packet in self._video.encode(frame):
            self._container.mux(packet)
        self.frames += 1
        if self._audio is not None:
            self._write_audio(until=round(self.frames / self.fps * self._rate))

    def _write_audio(self, until: int | None) -> None:
        """Mux audio up to sample ``until`` (None: to the end of the input)."""
        assert self._decoder is not None and self._audio is not None
        want = None if until is None else until - self.audio_samples
        while not self._exhausted and (want is None or self._pending.shape[0] < want):
            block = self._decoder.read(max(self._chunk * 8, (want or 0) - self._pending.shape[0]))
            if block.shape[0] == 0:
                self._exhausted = True
                break
            if block.shape[1] > self._channels:
                block = block[:, :2] if self._channels == 2 else block.mean(axis=1, keepdims=True)
            self._pending = np.concatenate([self._pending, block.astype(np.float32)])
        final = until is None
        n = self._pending.shape[0] if final else max(0, min(want or 0, self._pending.shape[0]))
        if not final:
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
            frame.sample_rate = self._rate
            frame.pts = self.audio_samples
            self.audio_samples += chunk.shape[0]
            for packet in self._audio.encode(frame):
                self._container.mux(packet)
        self._pending = self._pending[n:]

    def close(self) -> Path:
        """Write the rest of the sound, finish the file and give it its final name."""
        try:
            if self._audio is not None:
                self._write_audio(until=None)
                for packet in self._audio.encode(None):
                    self._container.mux(packet)
            for packet in self._video.encode(None):
                self._container.mux(packet)
            self._container.close()
        except (OSError, av.error.FFmpegError) as exc:
            self.abort()
            raise RecordError(f"cannot finish {self.path}: {exc}") from None
        finally:
            if self._decoder is not None:
                self._decoder.close()
        self.partial.replace(self.path)
        return self.path

    def abort(self) -> Path | None:
        """Stop after a failure or an interruption.

        Returns
        -------
        Path or None
            The playable partial MP4 left behind, or None (an AVI is deleted).
        """
        with contextlib.suppress(Exception):
            self._container.close()
        if self._decoder is not None:
            self._decoder.close()
        if self.path.suffix.lower() == ".mp4" and self.partial.exists() and self.frames:
            return self.partial
        self.partial.unlink(missing_ok=True)
        return None
