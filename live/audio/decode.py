"""Audio file decoding with PyAV, streamed in bounded memory.

PyAV (FFmpeg) is the project's only decoder. Files are decoded a packet at a
time into float32 blocks of shape ``(n, channels)``; nothing ever holds the
whole file unless :func:`read_all` is asked for it.

Broken files
------------
Every problem a user can cause is an :class:`~ganterp.live.core.errors.AudioFileError` with
a one-line message that names the file: missing, a directory, empty (0 bytes),
unreadable, an unsupported extension (the message lists the supported ones),
not audio at all (text, an image, a container with no audio stream), no audio
samples, and truncated or corrupt.

Truncation is found in two stages:

* Up front, in :func:`probe`, where it is cheap (a few milliseconds). For WAV
  (RIFF) and AIFF the header's declared data size is compared with the bytes
  the file really holds (FFmpeg silently plays whatever is there, so this is
  the only place it can be seen). For Ogg (Vorbis, Opus, FLAC) the last page
  must be complete: a copy cut short almost always ends mid-page, while the
  length Ogg reports comes from that last page and so looks fine. For the
  formats whose header or index states an exact length (FLAC's STREAMINFO, MP3
  with a Xing/Info/VBRI header, MP4/M4A, Matroska, ASF) :func:`probe` seeks to
  the last two seconds and decodes them: a file cut short ends early there, or
  fails to decode. An MP4 cut short usually loses its index and cannot be
  opened at all.
* When hit, while decoding: a decoder error mid-stream, or a stream that ends
  more than a small tolerance (0.2 s + 0.2 %) before its declared length,
  raises :class:`~ganterp.live.core.errors.AudioFileError` at that point, after the audio
  before it has been delivered. :class:`~ganterp.live.audio.file_source.FileSource` then
  logs it once and plays what there was.

An Ogg file cut exactly at a page boundary, or an MP3 without a VBR header,
carries no trustworthy length, so such a cut looks like a complete shorter
file and is played as such.

Codec delay
-----------
Decoded sample 0 is the original's sample 0 wherever the file says how much
to drop: FFmpeg applies the LAME/Xing header's encoder delay and padding
(MP3), the MP4 edit list (AAC in M4A), Opus's pre-skip and Vorbis's granule
positions itself, so nothing is left to compensate here (measured by
cross-correlation against the WAV original: 0 samples for WAV, FLAC, MP3,
Ogg Vorbis, Opus, M4A and Matroska). Files that do not say cannot be
corrected: an MP3 without a LAME/Xing header starts 1105 samples late (the
encoder's 576 and the decoder's 529), a raw ADTS ``.aac`` file 1024 samples
(the encoder's priming), about 25 ms either way.

Wrong extension
---------------
FFmpeg identifies the format by content. A file whose content is audio of
another format than its extension says (MP3 data named ``.wav``) is decoded by
content, and one ``logging`` warning line says so. A file whose extension is
not an audio one is refused before it is opened.
"""

from __future__ import annotations

import logging
import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO

import av
import numpy as np

from ganterp.live.core.errors import AudioFileError, one_line

log = logging.getLogger(__name__)

#: Lower-case file extensions (without the dot) that :func:`probe` accepts.
SUPPORTED_EXTENSIONS: tuple[str, ...] = (
    "aac",
    "aif",
    "aifc",
    "aiff",
    "au",
    "caf",
    "flac",
    "m4a",
    "mka",
    "mp3",
    "mp4",
    "oga",
    "ogg",
    "opus",
    "w64",
    "wav",
    "wave",
    "webm",
    "wma",
)

# FFmpeg demuxer names that each extension stands for (for the wrong-extension warning).
_EXPECTED_DEMUXERS: dict[str, frozenset[str]] = {
    "aac": frozenset({"aac", "mov", "mp4", "m4a"}),
    "aif": frozenset({"aiff"}),
    "aifc": frozenset({"aiff"}),
    "aiff": frozenset({"aiff"}),
    "au": frozenset({"au"}),
    "caf": frozenset({"caf"}),
    "flac": frozenset({"flac", "ogg"}),
    "m4a": frozenset({"mov", "mp4", "m4a"}),
    "mka": frozenset({"matroska", "webm"}),
    "mp3": frozenset({"mp3"}),
    "mp4": frozenset({"mov", "mp4", "m4a"}),
    "oga": frozenset({"ogg"}),
    "ogg": frozenset({"ogg"}),
    "opus": frozenset({"ogg"}),
    "w64": frozenset({"w64"}),
    "wav": frozenset({"wav"}),
    "wave": frozenset({"wav"}),
    "webm": frozenset({"matroska", "webm"}),
    "wma": frozenset({"asf"}),
}

# Demuxers whose declared duration is exact (header or index), so a shorter decode
# means truncation. MP3 qualifies only with a VBR header (checked separately).
_EXACT_LENGTH_DEMUXERS = frozenset({"flac", "ogg", "mov", "mp4", "m4a", "matroska", "webm", "asf"})

# Seconds the decoded end may fall short of the declared length, plus a fraction of it.
_TRUNCATION_TOLERANCE_S = 0.2
_TRUNCATION_TOLERANCE_FRACTION = 0.002
# Probe decodes this many seconds before the declared end to check the end is there.
_TAIL_CHECK_S = 2.0

_INT_SCALE = {
    "s16": 1.0 / 32768.0,
    "s32": 1.0 / 2147483648.0,
    "s64": 1.0 / 9223372036854775808.0,
}


@dataclass(frozen=True)
class AudioInfo:
    """What :func:`probe` found out about an audio file.

    Attributes
    ----------
    path : Path
        The file.
    sample_rate : int
        Sample rate of the audio stream in Hz.
    channels : int
        Channels of the audio stream.
    duration_s : float or None
        Duration in seconds, or None where the file does not say.
    codec : str
        FFmpeg decoder name, e.g. ``"pcm_s16le"``, ``"mp3float"``, ``"flac"``.
    container : str
        FFmpeg demuxer name, e.g. ``"wav"``, ``"mp3"``, ``"ogg"``.
    """

    path: Path
    sample_rate: int
    channels: int
    duration_s: float | None
    codec: str
    container: str


@dataclass(frozen=True)
class LengthCheck:
    """Whether a decode that ends early means truncation, and where the end should be."""

    exact: bool
    duration_s: float | None


def _av_reason(exc: BaseException) -> str:
    reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return one_line(reason)


def _check_path(path: str | os.PathLike[str]) -> Path:
    """Refuse paths that cannot be an audio file; return the path as a :class:`Path`."""
    p = Path(path)
    if not p.exists():
        raise AudioFileError(f"{p}: no such file")
    if p.is_dir():
        raise AudioFileError(f"{p}: is a directory, not an audio file")
    ext = p.suffix.lower().lstrip(".")
    if ext not in SUPPORTED_EXTENSIONS:
        what = f"extension '.{ext}'" if ext else "no file extension"
        raise AudioFileError(
            f"{p}: {what} is not a supported audio format "
            f"(supported: {', '.join(SUPPORTED_EXTENSIONS)})"
        )
    if not p.is_file():
        raise AudioFileError(f"{p}: not a regular file")
    if not os.access(p, os.R_OK):
        raise AudioFileError(f"{p}: cannot be read (permission denied)")
    if p.stat().st_size == 0:
        raise AudioFileError(f"{p}: the file is empty (0 bytes)")
    return p


# -- cheap header checks ----------------------------------------------------------------


def _check_riff(p: Path, head: bytes, size: int) -> None:
    """Compare a WAV file's declared data chunk size with the bytes present."""
    if head[:4] not in (b"RIFF", b"RIFX") or head[8:12] != b"WAVE":
        return
    endian = "<" if head[:4] == b"RIFF" else ">"
    byte_rate = 0
    block_align = 1
    with p.open("rb") as f:
        for cid, csize, pos in _chunks(f, size, endian):
            if cid == b"fmt ":
                fmt = f.read(min(csize, 16))
                if len(fmt) >= 14:
                    byte_rate = struct.unpack(endian + "I", fmt[8:12])[0]
                    block_align = max(1, struct.unpack(endian + "H", fmt[12:14])[0])
            elif cid == b"data":
                start = pos + 8
                available = size - start
                if csize in (0, 0xFFFFFFFF) and available > 0:
                    return  # a streamed WAV whose writer never filled in the size
                if csize == 0:
                    raise AudioFileError(f"{p}: contains no audio (the WAV data chunk is empty)")
                if available < csize - block_align + 1:
                    _raise_truncated_pcm(p, "WAV", csize, available, byte_rate)
                return
    # No data chunk before the end of the file.
    raise AudioFileError(f"{p}: truncated or not audio (the WAV file has no data chunk)")


def _chunks(f: BinaryIO, size: int, endian: str) -> Iterator[tuple[bytes, int, int]]:
    """Walk the chunks of a RIFF or IFF file (WAV, AIFF) after its 12-byte header.

    Yields
    ------
    chunk_id, chunk_size, position
        With the file positioned at the chunk's body.
    """
    pos = 12
    while pos + 8 <= size:
        f.seek(pos)
        hdr = f.read(8)
        if len(hdr) < 8:
            return
        (csize,) = struct.unpack(endian + "I", hdr[4:])
        yield hdr[:4], csize, pos
        pos += 8 + csize + (csize & 1)


def _check_aiff(p: Path, head: bytes, size: int) -> None:
    """Compare an AIFF file's declared frame count with the bytes present."""
    if head[:4] != b"FORM" or head[8:12] not in (b"AIFF", b"AIFC"):
        return
    frames = None
    bytes_per_frame = 0
    rate = 0.0
    ssnd_start = None
    compressed = False
    with p.open("rb") as f:
        for cid, csize, pos in _chunks(f, size, ">"):
            if cid == b"COMM":
                comm = f.read(min(csize, 22))
                if len(comm) >= 8:
                    channels, frames, bits = struct.unpack(">HIH", comm[:8])
                    bytes_per_frame = channels * ((bits + 7) // 8)
                if len(comm) >= 18:
                    rate = _extended_to_float(comm[8:18])
                if head[8:12] == b"AIFC" and len(comm) >= 22:
                    compressed = comm[18:22] not in (b"NONE", b"twos", b"sowt", b"fl32", b"fl64")
            elif cid == b"SSND":
                offset = struct.unpack(">I", f.read(4))[0] if csize >= 8 else 0
                ssnd_start = pos + 16 + offset
    if frames is None or compressed or bytes_per_frame == 0:
        return
    if frames == 0:
        raise AudioFileError(f"{p}: contains no audio (the AIFF file declares 0 frames)")
    declared = frames * bytes_per_frame
    available = 0 if ssnd_start is None else max(0, size - ssnd_start)
    if available < declared - bytes_per_frame + 1:
        _raise_truncated_pcm(p, "AIFF", declared, available, int(rate * bytes_per_frame))


def _extended_to_float(b: bytes) -> float:
    """Decode an 80-bit IEEE 754 extended float (AIFF's sample rate)."""
    exponent, mantissa = struct.unpack(">HQ", b[:10])
    sign = -1.0 if exponent & 0x8000 else 1.0
    exponent &= 0x7FFF
    if exponent == 0 and mantissa == 0:
        return 0.0
    return sign * mantissa * 2.0 ** (exponent - 16383 - 63)


def _check_ogg(p: Path, head: bytes, size: int) -> None:
    """Check that an Ogg file's last page is complete (a cut file ends mid-page)."""
    if head[:4] != b"OggS":
        return
    tail_len = min(size, 256 * 1024)
    with p.open("rb") as f:
        f.seek(size - tail_len)
        tail = f.read(tail_len)
    base = size - tail_len
    pos = tail.rfind(b"OggS")
    while pos >= 0:
        if pos + 5 <= len(tail) and tail[pos + 4] == 0:
            break  # stream structure version 0: a real page header
        pos = tail.rfind(b"OggS", 0, pos)
    if pos < 0:
        return
    end = None
    if pos + 27 <= len(tail):
        nsegs = tail[pos + 26]
        if pos + 27 + nsegs <= len(tail):
            end = pos + 27 + nsegs + sum(tail[pos + 27 : pos + 27 + nsegs])
    trailing = tail[end:] if end is not None else b""
    if end is None or end > len(tail) or (trailing and b"OggS".startswith(trailing[:4])):
        raise AudioFileError(
            f"{p}: truncated: its last Ogg page is cut off at byte {size} "
            f"(the page starts at byte {base + pos}; was it cut short while copying?)"
        )
    if not tail[pos + 5] & 0x04:
        log.warning("%s: the last Ogg page has no end-of-stream mark; the file may be truncated", p)


def _raise_truncated_pcm(p: Path, kind: str, declared: int, available: int, byte_rate: int) -> None:
    if byte_rate > 0:
        detail = (
            f"the {kind} header promises {declared / byte_rate:.2f} s of audio "
            f"but the file holds only {available / byte_rate:.2f} s"
        )
    else:
        detail = (
            f"the {kind} header promises {declared} bytes of audio but the file holds {available}"
        )
    raise AudioFileError(f"{p}: truncated: {detail} (was it cut short while copying?)")


def _mp3_has_vbr_header(p: Path) -> bool:
    """Whether an MP3 file starts with a Xing/Info/VBRI header that states its length."""
    with p.open("rb") as f:
        head = f.read(10)
        skip = 0
        if head[:3] == b"ID3" and len(head) == 10:
            sz = head[6:10]
            skip = 10 + (
                (sz[0] & 0x7F) << 21 | (sz[1] & 0x7F) << 14 | (sz[2] & 0x7F) << 7 | sz[3] & 0x7F
            )
        f.seek(skip)
        first = f.read(4096)
    return any(tag in first[:200] for tag in (b"Xing", b"Info", b"VBRI"))


# -- probing --------------------------------------------------------------------------------


def _open_container(p: Path) -> Any:
    try:
        return av.open(str(p), mode="r")
    except PermissionError:
        raise AudioFileError(f"{p}: cannot be read (permission denied)") from None
    except (av.FFmpegError, OSError, ValueError) as exc:
        raise AudioFileError(
            f"{p}: not an audio file, or corrupt: FFmpeg cannot read it ({_av_reason(exc)})"
        ) from None


def _audio_stream(p: Path, container: Any) -> Any:
    if not container.streams.audio:
        kinds = sorted({s.type for s in container.streams}) or ["nothing"]
        raise AudioFileError(
            f"{p}: not an audio file (it has no audio stream; found: {', '.join(kinds)})"
        )
    return container.streams.audio[0]


def _stream_duration(container: Any, stream: Any) -> float | None:
    if stream.duration is not None and stream.time_base is not None and stream.duration > 0:
        return float(stream.duration * stream.time_base)
    if container.duration is not None and container.duration > 0:
        return float(container.duration) / av.time_base
    return None


def _stream_start(stream: Any) -> float:
    if stream.start_time is not None and stream.time_base is not None:
        return float(stream.start_time * stream.time_base)
    return 0.0


def _frame_end(frame: Any) -> float | None:
    if frame.pts is None or frame.time_base is None or not frame.sample_rate:
        return None
    return float(frame.pts * frame.time_base) + frame.samples / frame.sample_rate


def check_file(
    path: str | os.PathLike[str], *, check_end: bool = True
) -> tuple[AudioInfo, LengthCheck]:
    """Probe a file as :func:`probe` does, keeping what a decoder must verify.

    Returns
    -------
    info, length
        The file's description, and how to tell a truncated end from a normal
        one; :func:`decoder_for` opens a decoder from both without probing again.
    """
    p = _check_path(path)
    size = p.stat().st_size
    with p.open("rb") as f:
        head = f.read(12)
    _check_riff(p, head, size)
    _check_aiff(p, head, size)
    _check_ogg(p, head, size)

    container = _open_container(p)
    try:
        stream = _audio_stream(p, container)
        demuxers = set(container.format.name.split(","))
        ext = p.suffix.lower().lstrip(".")
        if not demuxers & _EXPECTED_DEMUXERS.get(ext, frozenset()):
            log.warning(
                "%s: content is %s audio, not what the extension '.%s' says; decoding by content",
                p,
                container.format.name.split(",")[0].upper(),
                ext,
            )
        ctx = stream.codec_context
        sample_rate = int(ctx.sample_rate or stream.rate or 0)
        channels = int(ctx.layout.nb_channels) if ctx.layout is not None else 0
        if sample_rate <= 0 or channels <= 0:
            raise AudioFileError(f"{p}: not a usable audio stream (no sample rate or channels)")
        duration = _stream_duration(container, stream)
        exact = bool(demuxers & _EXACT_LENGTH_DEMUXERS) or (
            "mp3" in demuxers and _mp3_has_vbr_header(p)
        )
        if "wav" in demuxers or "aiff" in demuxers:
            exact = False  # checked from the header above; FFmpeg reports what is there
        info = AudioInfo(
            path=p,
            sample_rate=sample_rate,
            channels=channels,
            duration_s=duration,
            codec=str(ctx.name),
            container=str(container.format.name),
        )
        check = LengthCheck(exact=exact and duration is not None, duration_s=duration)
        _check_first_frame(p, container, stream)
        if check_end and check.exact and duration is not None:
            _check_tail(p, container, stream, duration)
    finally:
        container.close()
    return info, check


def _check_first_frame(p: Path, container: Any, stream: Any) -> None:
    """Decode until the first audio frame, so empty or undecodable files fail here."""
    try:
        for frame in container.decode(stream):
            if frame.samples > 0:
                return
    except av.FFmpegError as exc:
        raise AudioFileError(
            f"{p}: corrupt or not audio (decoding fails at the start: {_av_reason(exc)})"
        ) from None
    raise AudioFileError(f"{p}: contains no decodable audio (it is empty, truncated or corrupt)")


def _check_tail(p: Path, container: Any, stream: Any, duration: float) -> None:
    """Decode the last seconds to check the file reaches its declared duration."""
    start = _stream_start(stream)
    target = start + max(0.0, duration - _TAIL_CHECK_S)
    try:
        container.seek(int(target / stream.time_base), stream=stream, backward=True)
    except av.FFmpegError:
        return  # cannot seek: leave it to the check while decoding
    end = None
    try:
        for frame in container.decode(stream):
            fe = _frame_end(frame)
            if fe is not None:
                end = fe if end is None else max(end, fe)
    except av.FFmpegError as exc:
        raise AudioFileError(
            f"{p}: truncated or corrupt (decoding fails near the end of its declared "
            f"{duration:.2f} s: {_av_reason(exc)})"
        ) from None
    reached = 0.0 if end is None else end - start
    if reached < duration - _tolerance(duration):
        raise AudioFileError(
            f"{p}: truncated: the file declares {duration:.2f} s of audio but its data "
            f"ends at {reached:.2f} s (was it cut short while copying?)"
        )


def _tolerance(duration: float) -> float:
    return _TRUNCATION_TOLERANCE_S + _TRUNCATION_TOLERANCE_FRACTION * duration


def probe(path: str | os.PathLike[str]) -> AudioInfo:
    """Describe an audio file, checking that it can be played to its end.

    Cheap: reads the header, decodes the first frame and, for formats that
    declare an exact length, the last two seconds. WAV/AIFF truncation is found
    from the header alone. Logs one warning when the content's format differs
    from the extension's.

    Parameters
    ----------
    path : str or os.PathLike
        The audio file.

    Returns
    -------
    AudioInfo
        Sample rate, channels, duration (None if unknown), codec and container.

    Raises
    ------
    AudioFileError
        One line naming the file: missing, a directory, empty, unsupported
        extension, not audio, no audio stream, no samples, truncated or corrupt.
    """
    return check_file(path)[0]


# -- decoding -------------------------------------------------------------------------------


def _frame_to_array(frame: Any) -> np.ndarray:
    """Convert a decoded frame to float32 of shape (samples, channels)."""
    data = frame.to_ndarray()
    fmt = frame.format
    channels = frame.layout.nb_channels
    # planar (channels, n) -> (n, channels); packed (1, n * channels) -> (n, channels)
    data = data.T if fmt.is_planar else data.reshape(-1, channels)
    name = fmt.name.rstrip("p")
    if name == "flt":
        return np.ascontiguousarray(data, dtype=np.float32)
    if name == "dbl":
        return np.ascontiguousarray(data, dtype=np.float32)
    if name == "u8":
        out = data.astype(np.float32)
        out -= 128.0
        out *= 1.0 / 128.0
        return out
    scale = _INT_SCALE.get(name)
    if scale is None:
        raise ValueError(f"unexpected sample format {fmt.name}")
    out = data.astype(np.float32)
    out *= scale
    return out


class AudioDecoder:
    """Stream an audio file as float32 blocks, in bounded memory.

    Iterating yields blocks of shape ``(n, channels)`` as the decoder produces
    them (``n`` varies with the codec, e.g. 1152 for MP3); :meth:`read` returns
    exactly the number of frames asked for (fewer only at the end). Planar or
    packed, 8/16/24/32-bit integer or float input all come out as interleaved
    float32 in [-1, 1].

    Parameters
    ----------
    path : str or os.PathLike
        The audio file; checked with :func:`probe` on construction.
    sample_rate : int, optional
        Output sample rate in Hz. Resampling (``av.AudioResampler``) happens only
        when this is given and differs from the file's rate.

    Attributes
    ----------
    info : AudioInfo
        What :func:`probe` found.
    sample_rate : int
        Output sample rate in Hz.
    channels : int
        Output channels (the file's).
    position : int
        Output frames returned since the start or the last seek.

    Raises
    ------
    AudioFileError
        On construction as :func:`probe` does; while decoding, when the data is
        corrupt or ends before the declared length (truncated).
    """

    def __init__(self, path: str | os.PathLike[str], *, sample_rate: int | None = None) -> None:
        self._init(check_file(path), sample_rate)

    def _init(self, probed: tuple[AudioInfo, LengthCheck], sample_rate: int | None) -> None:
        info, check = probed
        self.info = info
        self._check = check
        self.path = info.path
        if sample_rate is not None and sample_rate <= 0:
            raise ValueError("sample_rate must be positive")
        self.sample_rate = int(sample_rate) if sample_rate else info.sample_rate
        self.channels = info.channels
        self.position = 0
        self._container: Any = None
        self._blocks: Iterator[np.ndarray] | None = None
        self._pending: list[np.ndarray] = []
        self._pending_frames = 0
        self._closed = False
        self._full_pass = True
        self._open()

    # -- lifecycle --------------------------------------------------------------------
    def _open(self) -> None:
        self._container = _open_container(self.path)
        self._stream = _audio_stream(self.path, self._container)
        self._blocks = self._decode(skip_to=None)
        self._pending = []
        self._pending_frames = 0
        self.position = 0
        self._full_pass = True

    def close(self) -> None:
        """Release the file. Idempotent."""
        self._closed = True
        self._blocks = None
        if self._container is not None:
            self._container.close()
            self._container = None

    def __enter__(self) -> AudioDecoder:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def duration_s(self) -> float | None:
        """Declared duration in seconds, or None if the file does not say."""
        return self.info.duration_s

    # -- decoding ---------------------------------------------------------------------
    def _resampler(self, frame: Any) -> Any | None:
        if frame.sample_rate == self.sample_rate and frame.layout.nb_channels == self.channels:
            return None
        layout = self._stream.codec_context.layout
        if layout is None or layout.nb_channels != self.channels:
            layout = av.AudioLayout("mono" if self.channels == 1 else "stereo")
        return av.AudioResampler(format="flt", layout=layout, rate=self.sample_rate)

    def _decode(self, skip_to: float | None) -> Iterator[np.ndarray]:
        """Yield float32 blocks; check length and errors; drop frames before ``skip_to``."""
        p = self.path
        stream = self._stream
        start = _stream_start(stream)
        resampler: Any = None
        checked_resampler = False
        decoded_s = 0.0  # seconds of source audio decoded (at the source's rate)
        try:
            for frame in self._container.decode(stream):
                if frame.samples == 0:
                    continue
                decoded_s += frame.samples / frame.sample_rate
                if skip_to is not None:
                    fe = _frame_end(frame)
                    if fe is not None and fe - start <= skip_to:
                        continue
                if not checked_resampler:
                    resampler = self._resampler(frame)
                    checked_resampler = True
                if resampler is None:
                    block = _frame_to_array(frame)
                    if skip_to is not None and frame.pts is not None:
                        t0 = float(frame.pts * frame.time_base) - start
                        drop = round((skip_to - t0) * frame.sample_rate)
                        if drop > 0:
                            block = block[drop:]
                    skip_to = None
                    if block.shape[0]:
                        yield block
                else:
                    skip_to = None
                    for out in resampler.resample(frame):
                        yield _frame_to_array(out)
            if resampler is not None:
                for out in resampler.resample(None):
                    yield _frame_to_array(out)
        except av.FFmpegError as exc:
            raise AudioFileError(
                f"{p}: truncated or corrupt: decoding fails after {decoded_s:.2f} s "
                f"({_av_reason(exc)})"
            ) from None
        check = self._check
        # decoded_s counts from wherever the last seek landed; only a full pass is judged.
        if (
            check.exact
            and check.duration_s is not None
            and self._full_pass
            and decoded_s < check.duration_s - _tolerance(check.duration_s)
        ):
            raise AudioFileError(
                f"{p}: truncated: the file declares {check.duration_s:.2f} s of audio "
                f"but its data ends at {decoded_s:.2f} s (was it cut short while copying?)"
            )

    def __iter__(self) -> Iterator[np.ndarray]:
        """Yield the remaining audio as float32 blocks of shape (n, channels)."""
        while True:
            block = self._next_block()
            if block is None:
                return
            yield block

    def _next_block(self) -> np.ndarray | None:
        if self._closed:
            raise ValueError("the decoder is closed")
        block: np.ndarray | None
        if self._pending:
            block = self._pending.pop(0)
            self._pending_frames -= block.shape[0]
        else:
            block = self._pull()
            if block is None:
                return None
        self.position += block.shape[0]
        return block

    def _pull(self) -> np.ndarray | None:
        assert self._blocks is not None
        try:
            return next(self._blocks)
        except StopIteration:
            return None

    def read(self, frames: int) -> np.ndarray:
        """Return the next ``frames`` frames.

        Parameters
        ----------
        frames : int
            Frames wanted (> 0).

        Returns
        -------
        np.ndarray, shape (n, channels), float32
            ``n == frames`` except at the end of the file, where it is smaller
            (0 once the end has been reached).
        """
        if frames <= 0:
            raise ValueError("frames must be positive")
        if self._closed:
            raise ValueError("the decoder is closed")
        assert self._blocks is not None
        while self._pending_frames < frames:
            block = self._pull()
            if block is None:
                break
            self._pending.append(block)
            self._pending_frames += block.shape[0]
        if not self._pending:
            return np.zeros((0, self.channels), dtype=np.float32)
        if len(self._pending) == 1 and self._pending[0].shape[0] <= frames:
            out = self._pending.pop()
        else:
            joined = np.concatenate(self._pending, axis=0)
            out = joined[:frames]
            rest = joined[frames:]
            self._pending = [rest] if rest.shape[0] else []
        self._pending_frames -= out.shape[0]
        self.position += out.shape[0]
        return out

    # -- positioning ------------------------------------------------------------------
    def rewind(self) -> None:
        """Go back to the start (for looping); decodes exactly as the first pass did."""
        if self._closed:
            raise ValueError("the decoder is closed")
        self._container.close()
        self._open()

    def seek(self, seconds: float) -> None:
        """Continue from ``seconds`` into the file (0 rewinds).

        Parameters
        ----------
        seconds : float
            Position in seconds from the start of the audio, >= 0.
        """
        if seconds <= 0:
            self.rewind()
            return
        if self._closed:
            raise ValueError("the decoder is closed")
        stream = self._stream
        start = _stream_start(stream)
        try:
            self._container.seek(int((start + seconds) / stream.time_base), stream=stream)
        except av.FFmpegError as exc:
            raise AudioFileError(
                f"{self.path}: cannot seek to {seconds:.2f} s ({_av_reason(exc)})"
            ) from None
        self._full_pass = False
        self._blocks = self._decode(skip_to=float(seconds))
        self._pending = []
        self._pending_frames = 0
        self.position = round(seconds * self.sample_rate)


def decoder_for(
    probed: tuple[AudioInfo, LengthCheck], sample_rate: int | None = None
) -> AudioDecoder:
    """Open a decoder for a file :func:`check_file` has already checked (no second probe)."""
    dec = AudioDecoder.__new__(AudioDecoder)
    dec._init(probed, sample_rate)
    return dec


def read_all(
    path: str | os.PathLike[str],
    *,
    sample_rate: int | None = None,
    max_seconds: float | None = None,
) -> tuple[np.ndarray, int]:
    """Decode a whole file (or its first ``max_seconds``) into memory.

    Parameters
    ----------
    path : str or os.PathLike
        The audio file.
    sample_rate : int, optional
        Resample to this rate in Hz (only when it differs from the file's).
    max_seconds : float, optional
        Stop after this many seconds.

    Returns
    -------
    samples : np.ndarray, shape (n, channels), float32
        The audio, in [-1, 1].
    sample_rate : int
        Its sample rate in Hz.

    Raises
    ------
    AudioFileError
        As :class:`AudioDecoder` does, and when the file decodes to no samples.
    """
    with AudioDecoder(path, sample_rate=sample_rate) as dec:
        limit = None if max_seconds is None else max(0, round(max_seconds * dec.sample_rate))
        blocks: list[np.ndarray] = []
        total = 0
        for block in dec:
            if limit is not None and total + block.shape[0] >= limit:
                blocks.append(block[: limit - total])
                total = limit
                break
            blocks.append(block)
            total += block.shape[0]
        if total == 0 and (limit is None or limit > 0):
            raise AudioFileError(f"{dec.path}: contains no audio (no samples could be decoded)")
        if not blocks:
            return np.zeros((0, dec.channels), dtype=np.float32), dec.sample_rate
        return np.concatenate(blocks, axis=0), dec.sample_rate
