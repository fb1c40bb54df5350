"""Write real audio files for tests, with PyAV (the project's own decoder library).

``write_audio(path, samples, sr, codec=...)`` encodes a float signal of shape
(n, channels) into any format FFmpeg can write; ``CODECS`` maps short names to
(codec, sample format, container) choices. Plus makers for broken files.
"""

from __future__ import annotations

import struct
from pathlib import Path

import av
import numpy as np

# name -> (FFmpeg encoder, sample format it takes, file extension)
CODECS: dict[str, tuple[str, str, str]] = {
    "wav_u8": ("pcm_u8", "u8", "wav"),
    "wav_s16": ("pcm_s16le", "s16", "wav"),
    "wav_s24": ("pcm_s24le", "s32", "wav"),
    "wav_s32": ("pcm_s32le", "s32", "wav"),
    "wav_f32": ("pcm_f32le", "flt", "wav"),
    "wav_f64": ("pcm_f64le", "dbl", "wav"),
    "aiff_s16": ("pcm_s16be", "s16", "aiff"),
    "flac": ("flac", "s16", "flac"),
    "flac24": ("flac", "s32", "flac"),
    "mp3": ("libmp3lame", "fltp", "mp3"),
    "ogg": ("vorbis", "fltp", "ogg"),  # FFmpeg's own Vorbis encoder: stereo only
    "oga_flac": ("flac", "s16", "oga"),
    "opus": ("libopus", "flt", "opus"),
    "m4a": ("aac", "fltp", "m4a"),
}

_CONTAINERS = {
    "wav": "wav",
    "aiff": "aiff",
    "flac": "flac",
    "mp3": "mp3",
    "ogg": "ogg",
    "oga": "ogg",
    "opus": "ogg",
    "m4a": "ipod",
}


def sine(
    sr: int, seconds: float, channels: int = 2, freq: float = 440.0, amp: float = 0.5
) -> np.ndarray:
    """A test tone, shape (n, channels), float32; channel k is at ``freq * (k + 1)``."""
    t = np.arange(round(sr * seconds)) / sr
    cols = [amp * np.sin(2 * np.pi * freq * (k + 1) * t) for k in range(channels)]
    return np.stack(cols, axis=1).astype(np.float32)


def noise(
    sr: int, seconds: float, channels: int = 2, amp: float = 0.4, seed: int = 0
) -> np.ndarray:
    """Seeded uniform noise in [-amp, amp], shape (n, channels), float32."""
    rng = np.random.default_rng(seed)
    return rng.uniform(-amp, amp, size=(round(sr * seconds), channels)).astype(np.float32)


def write_audio(path: Path, samples: np.ndarray, sr: int, codec: str = "wav_s16") -> Path:
    """Encode ``samples`` (shape (n, channels), float in [-1, 1]) into ``path``.

    ``codec`` is a key of :data:`CODECS`; the path's extension is kept as given
    (so tests can write MP3 data named ``.wav``).
    """
    enc, fmt, _ = CODECS[codec]
    samples = np.asarray(samples, dtype=np.float32)
    if samples.ndim == 1:
        samples = samples[:, None]
    channels = samples.shape[1]
    layout = {1: "mono", 2: "stereo"}.get(channels, f"{channels}c")
    container_format = _CONTAINERS[CODECS[codec][2]]
    with av.open(str(path), "w", format=container_format) as out:
        stream = out.add_stream(enc, rate=sr, layout=layout)
        stream.format = fmt
        if enc == "vorbis":
            stream.codec_context.options = {"strict": "experimental"}
        if samples.shape[0]:
            frame = av.AudioFrame.from_ndarray(
                np.ascontiguousarray(samples.reshape(1, -1)), format="flt", layout=layout
            )
            frame.sample_rate = sr
            frame.pts = 0
            resampler = av.AudioResampler(format=fmt, layout=layout, rate=sr)
            for f in [*resampler.resample(frame), *resampler.resample(None)]:
                for packet in stream.encode(f):
                    out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return Path(path)


def wav_bytes(samples: np.ndarray, sr: int, *, declared_data_bytes: int | None = None) -> bytes:
    """A 16-bit PCM WAV file, by hand, with the data chunk size it should (or should not) have.

    ``samples``: shape (n, channels), float in [-1, 1]. ``declared_data_bytes``
    overrides the data chunk's size field (e.g. 0xFFFFFFFF for a streamed WAV).
    """
    samples = np.asarray(samples, dtype=np.float32)
    channels = samples.shape[1]
    pcm = np.clip(np.round(samples * 32767), -32768, 32767).astype("<i2").tobytes()
    size = len(pcm) if declared_data_bytes is None else declared_data_bytes
    fmt = struct.pack("<HHIIHH", 1, channels, sr, sr * channels * 2, channels * 2, 16)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
    body += b"data" + struct.pack("<I", size) + pcm
    return b"RIFF" + struct.pack("<I", min(len(body), 0xFFFFFFFF)) + body


def truncate(src: Path, dst: Path, fraction: float) -> Path:
    """Copy the first ``fraction`` of ``src``'s bytes to ``dst``."""
    data = Path(src).read_bytes()
    Path(dst).write_bytes(data[: int(len(data) * fraction)])
    return Path(dst)


# A valid 1x1 PNG.
PNG_BYTES = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010802000000907753de"
    "0000000c4944415478da63f8cfc0000003010100c9fe92ef0000000049454e44ae426082"
)
