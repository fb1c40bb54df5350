"""Writing a rendered video with the input's sound, in sync, safely.

Frame ``k`` covers ``[k / fps, (k + 1) / fps)``; after each frame the writer
muxes the input's audio up to the frame's end, so sound and picture start at
t = 0 together and stay interleaved (the file never holds minutes of audio
waiting for video). ``.mp4`` is H.264 + AAC, written (through :class:`ganterp.live.video.mux.Muxer`)
under ``NAME.partial.mp4`` and renamed when done; an interruption or an error closes it properly, so the
partial file plays. It is a plain MP4, not a fragmented one, because only a
plain MP4 carries the edit list that hides AAC's encoder delay: with it the
sound's duration equals the picture's (fragmented, the sound runs ~2 frames
long). ``.avi`` is Motion JPEG + 16-bit PCM (the original's format, with
sound), whose partial file is deleted on failure since an AVI without its
index does not play everywhere. A killed process can leave an unfinished
``NAME.partial.mp4``, never a broken file under the final name.
"""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np

from ganterp.live.audio.decode import AudioDecoder
from ganterp.live.settings.schema import X264_DEFAULT
from ganterp.live.video.mux import AAC_RATES, CONTAINERS, Muxer


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
    preset : str
        H.264 encoding speed (see :data:`ganterp.live.settings.schema.X264_PRESETS`).
    threads : int
        Encoder threads (0: as many as the encoder likes).

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
        preset: str = X264_DEFAULT,
        threads: int = 0,
    ) -> None:
        self.path = Path(path)
        self._decoder: AudioDecoder | None = None
        rate, channels = None, 2
        if audio is not None and self.path.suffix.lower() in CONTAINERS:
            self._decoder = AudioDecoder(audio)
            rate, channels = self._decoder.sample_rate, min(self._decoder.channels, 2)
            if CONTAINERS[self.path.suffix.lower()][3] == "aac" and rate not in AAC_RATES:
                self._decoder.close()
                self._decoder = AudioDecoder(audio, sample_rate=48000)
                rate = 48000
        try:
            self._mux = Muxer(
                self.path,
                fps=fps,
                size=size,
                audio_rate=rate,
                audio_channels=channels,
                crf=crf,
                preset=preset,
                threads=threads,
            )
        except Exception:
            if self._decoder is not None:
                self._decoder.close()
            raise
        self.fps = self._mux.fps
        self.width, self.height = self._mux.width, self._mux.height
        self.partial = self._mux.partial

    @property
    def frames(self) -> int:
        """Frames written so far."""
        return self._mux.frames

    @property
    def audio_samples(self) -> int:
        """Audio samples written so far."""
        return self._mux.audio_samples

    @property
    def pix_fmt(self) -> str:
        """The encoder's pixel format (what :meth:`write_frame` takes)."""
        return self._mux.pix_fmt

    def write(self, image: np.ndarray) -> None:
        """Add the next frame (``(H, W, 3)`` uint8 RGB) and the sound under it."""
        self._mux.write_video(image)
        self._sound_until_now()

    def write_frame(self, frame: av.VideoFrame) -> None:
        """Add the next frame, already at the video's size and in :attr:`pix_fmt`, and its sound."""
        self._mux.write_frame(frame)
        self._sound_until_now()

    def _sound_until_now(self) -> None:
        if self._decoder is not None:
            until = round(self._mux.frames / self.fps * self._mux.audio_rate)
            need = until - self._mux.audio_received
            if need > 0:
                self._mux.write_audio(self._decoder.read(need))

    def close(self) -> Path:
        """Write the rest of the sound, finish the file and give it its final name.

        Raises
        ------
        RecordError
            When the file cannot be finished (what was written is dealt with as by :meth:`abort`).
        """
        try:
            if self._decoder is not None:
                while (block := self._decoder.read(1 << 16)).shape[0]:
                    self._mux.write_audio(block)
            self._mux.finish()
        except Exception:
            self.abort()
            raise
        finally:
            if self._decoder is not None:
                self._decoder.close()
        return self._mux.publish()

    def abort(self) -> Path | None:
        """Stop after a failure or an interruption.

        Returns
        -------
        Path or None
            The playable partial MP4 left behind, or None (an AVI is deleted).
        """
        self._mux.close_quietly()
        if self._decoder is not None:
            self._decoder.close()
        if self.path.suffix.lower() == ".mp4" and self.partial.exists() and self.frames:
            return self.partial
        self._mux.discard()
        return None
