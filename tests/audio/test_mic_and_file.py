"""MicSource and FileSource logic, with a scripted PortAudio backend and real files.

The real-PortAudio versions of these (through a JACK server) are in test_jack.py.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from audiofiles import noise, truncate, write_audio

from ganterp.live.audio.devices import DeviceInfo
from ganterp.live.audio.file_source import FileSource
from ganterp.live.audio.mic import MicSource
from ganterp.live.audio.source import SourceStatus
from ganterp.live.core.clock import ManualClock, MonotonicClock
from ganterp.live.core.errors import AudioFileError, AudioInputError

SR = 8000
BLOCK = 80  # 10 ms at 8 kHz


def wait_until(cond: Callable[[], bool], timeout: float = 3.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.01)
    return cond()


def expected_input(start: int, n: int, channels: int) -> np.ndarray:
    """What a fake input delivers: channel k of frame i is k + (i % 1000) / 1000."""
    idx = (np.arange(start, start + n) % 1000).astype(np.float32) / 1000
    return idx[:, None] + np.arange(channels, dtype=np.float32)[None, :]


class Flags:
    def __init__(self, overflow: bool = False) -> None:
        self.input_overflow = overflow
        self.output_underflow = False


class FakeStream:
    """Calls its callback every blocksize / samplerate seconds from its own thread."""

    def __init__(self, backend: FakeBackend, kind: str, device: DeviceInfo, **kw: Any) -> None:
        self.backend = backend
        self.kind = kind
        self.device = device
        self.channels: int = kw["channels"]
        self.samplerate: int = kw["samplerate"]
        self.blocksize: int = kw["blocksize"]
        self.callback = kw["callback"]
        self.finished_callback = kw["finished_callback"]
        self._active = False
        self.stalled = False
        self.closed = False
        self.frames = 0
        self.outputs: list[np.ndarray] = []
        self._halt = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def active(self) -> bool:
        return self._active

    def start(self) -> None:
        self._active = True
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        period = self.blocksize / self.samplerate
        next_t = time.monotonic()
        while not self._halt.is_set():
            if not self.stalled:
                if self.kind == "input":
                    block = expected_input(self.frames, self.blocksize, self.channels)
                    overflow = self.backend.overflow_next
                    self.backend.overflow_next = False
                    self.callback(block, self.blocksize, None, Flags(overflow))
                else:
                    out = np.full((self.blocksize, self.channels), np.nan, np.float32)
                    self.callback(out, self.blocksize, None, Flags())
                    self.outputs.append(out)
                self.frames += self.blocksize
            next_t += period
            self._halt.wait(max(0.0, next_t - time.monotonic()))

    def die(self) -> None:
        """The device went away: no more callbacks, inactive, finished callback."""
        self._halt.set()
        self._active = False
        self.finished_callback()

    def stop(self) -> None:
        self._halt.set()
        self._active = False
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join()

    def close(self) -> None:
        self.stop()
        self.closed = True

    def output(self) -> np.ndarray:
        return np.concatenate(self.outputs) if self.outputs else np.zeros((0, self.channels))


class FakeBackend:
    """Stands in for PortAudioBackend: devices come and go on command."""

    def __init__(self, *devices: DeviceInfo) -> None:
        self.devices = list(devices)
        self.present = {d.name for d in devices}
        self.streams: list[FakeStream] = []
        self.released: list[FakeStream] = []
        self.abandoned: list[FakeStream] = []
        self.rescans = 0
        self.fail_open: str | None = None
        self.output_rates: set[int] | None = None
        self.jack_lost = False
        self.overflow_next = False

    def _present(self) -> list[DeviceInfo]:
        return [d for d in self.devices if d.name in self.present]

    def resolve(self, spec: Any, kind: str) -> DeviceInfo:
        avail = self._present()
        if isinstance(spec, DeviceInfo):
            found = [d for d in avail if d.name == spec.name]
        elif spec is None:
            found = avail[:1]
        else:
            found = [d for d in avail if str(spec).lower() in d.name.lower()]
        if len(found) != 1:
            raise AudioInputError(f"no audio {kind} device matches {spec!r}")
        return found[0]

    def _open(self, kind: str, device: DeviceInfo, **kw: Any) -> FakeStream:
        if self.fail_open:
            raise AudioInputError(self.fail_open)
        if device.name not in self.present:
            raise AudioInputError(f"cannot open '{device.name}': gone")
        stream = FakeStream(self, kind, device, **kw)
        self.streams.append(stream)
        return stream

    def open_input(self, device: DeviceInfo, **kw: Any) -> FakeStream:
        return self._open("input", device, **kw)

    def open_output(self, device: DeviceInfo, **kw: Any) -> FakeStream:
        return self._open("output", device, **kw)

    def start(self, stream: FakeStream, device: DeviceInfo) -> None:
        stream.start()

    def supports_output(self, device: DeviceInfo, channels: int, samplerate: int) -> bool:
        return self.output_rates is None or samplerate in self.output_rates

    def release(self, stream: FakeStream, device: DeviceInfo, **kw: Any) -> bool:
        stream.close()
        self.released.append(stream)
        return True

    def abandon(self, stream: FakeStream, device: DeviceInfo) -> None:
        if device.is_jack:
            self.jack_lost = True
        self.abandoned.append(stream)

    def can_reopen(self, device: DeviceInfo) -> bool:
        return not (device.is_jack and self.jack_lost)

    def rescan(self) -> bool:
        self.rescans += 1
        return True


USB = DeviceInfo(1, "USB Audio Interface: Audio (hw:1,0)", "ALSA", 4, 2, float(SR))
MONO = DeviceInfo(2, "Headset Mic", "ALSA", 1, 0, float(SR))
JACK = DeviceInfo(0, "system", "JACK Audio Connection Kit", 2, 2, float(SR))
SPEAKERS = DeviceInfo(3, "Speakers", "ALSA", 0, 2, 48000.0)


@pytest.fixture
def backend() -> FakeBackend:
    return FakeBackend(USB, MONO, JACK, SPEAKERS)


@pytest.fixture
def sources() -> Iterator[list[Any]]:
    made: list[Any] = []
    yield made
    for s in made:
        s.stop()


def mic(backend: FakeBackend, sources: list[Any], device: Any = "usb", **kw: Any) -> MicSource:
    kw.setdefault("clock", MonotonicClock())
    kw.setdefault("blocksize", BLOCK)
    kw.setdefault("reopen_interval_s", 0.2)
    kw.setdefault("stall_timeout_s", 0.2)
    src = MicSource(device, backend=backend, **kw)  # type: ignore[arg-type]
    sources.append(src)
    return src


# -- MicSource ------------------------------------------------------------------------------


def test_mic_defaults_and_label(backend: FakeBackend, sources: list[Any]) -> None:
    src = mic(backend, sources)
    assert (src.sample_rate, src.channels, src.input_channels) == (SR, 2, (1, 2))
    assert src.ring.channels == 2 and src.ring.capacity == 4 * SR
    assert "USB Audio Interface" in src.label and "ch 1,2" in src.label
    assert src.status() == SourceStatus("starting", "", 0, 0, 0.0)
    assert src.finished is False
    mono = mic(backend, sources, "headset")
    assert mono.channels == 1


def test_mic_delivers_the_chosen_channels(backend: FakeBackend, sources: list[Any]) -> None:
    src = mic(backend, sources, channels=[4, 2])
    reader = src.ring.reader(from_start=True)
    src.start()
    assert src.status().state == "running"
    assert wait_until(lambda: src.ring.written >= 20 * BLOCK)
    backend.overflow_next = True
    assert wait_until(lambda: src.status().overflows == 1)
    start, frames = reader.read()
    assert start == 0
    full = expected_input(0, len(frames), 4)
    np.testing.assert_array_equal(frames, full[:, [3, 1]])
    src.stop()
    assert src.status().state == "stopped"
    assert backend.released == backend.streams


def test_mic_channel_errors(backend: FakeBackend) -> None:
    with pytest.raises(AudioInputError, match="there is no channel 5"):
        MicSource("usb", clock=MonotonicClock(), channels=[1, 5], backend=backend)  # type: ignore[arg-type]
    with pytest.raises(AudioInputError, match="no input channels chosen"):
        MicSource("usb", clock=MonotonicClock(), channels=[], backend=backend)  # type: ignore[arg-type]
    with pytest.raises(AudioInputError, match="no audio input device matches"):
        MicSource("focusrite", clock=MonotonicClock(), backend=backend)  # type: ignore[arg-type]


def test_mic_open_error_is_raised_at_start(backend: FakeBackend, sources: list[Any]) -> None:
    src = mic(backend, sources)
    backend.fail_open = (
        "cannot open audio input 'USB' with 2 channel(s) at 8000 Hz: Invalid sample rate"
    )
    with pytest.raises(AudioInputError) as exc:
        src.start()
    assert "\n" not in str(exc.value)
    assert src.status().state == "stopped"
    src.stop()


def test_mic_lost_feeds_silence_then_reopens(
    backend: FakeBackend, sources: list[Any], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="ganterp.live.audio.mic")
    src = mic(backend, sources)
    src.start()
    assert wait_until(lambda: src.ring.written >= 10 * BLOCK)
    first = backend.streams[0]
    backend.present.discard(USB.name)  # unplugged
    first.die()
    t_lost = time.monotonic()
    assert wait_until(lambda: src.status().state == "lost", 1.0)
    assert time.monotonic() - t_lost < 0.5
    status = src.status()
    assert "lost" in status.message and "\n" not in status.message
    # silence at real-time pace while it is gone, through several failed reopen attempts
    w0, t0 = src.ring.written, time.monotonic()
    reader = src.ring.reader()
    time.sleep(0.7)
    rate = (src.ring.written - w0) / (time.monotonic() - t0)
    assert rate == pytest.approx(SR, rel=0.25)
    _, gap = reader.read()
    assert len(gap) > 0 and not gap.any()
    assert backend.rescans >= 2 and len(backend.streams) == 1
    assert src.status().state == "lost" and src.status().reopen_count == 0
    # plugged back in
    backend.present.add(USB.name)
    assert wait_until(lambda: src.status().state == "running", 2.0)
    assert src.status().reopen_count == 1
    assert len(backend.streams) == 2 and first in backend.released
    w1 = src.ring.written
    reader = src.ring.reader()
    assert wait_until(lambda: src.ring.written > w1 + 10 * BLOCK)
    _, frames = reader.read()
    np.testing.assert_allclose(frames[:, 1] - frames[:, 0], 1.0, atol=1e-6)  # real signal again
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    infos = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert len(warnings) == 1 and "lost" in warnings[0]  # once, not once per attempt
    assert any("reopened" in m for m in infos)  # good news is not a warning
    src.stop()
    assert src.status().state == "stopped"


def test_mic_stall_counts_as_lost(backend: FakeBackend, sources: list[Any]) -> None:
    src = mic(backend, sources, reopen_interval_s=0.5)
    t_start = time.monotonic()
    src.start()
    assert wait_until(lambda: src.ring.written >= 5 * BLOCK)
    backend.streams[0].stalled = True  # active, but no more callbacks
    assert wait_until(lambda: src.status().state == "lost", 1.0)
    assert "no audio for" in src.status().message
    # the silence covers the stall too: the ring's frame count keeps up with the time
    time.sleep(0.15)
    assert src.status().state == "lost"
    assert src.ring.written / SR == pytest.approx(time.monotonic() - t_start, abs=0.06)
    assert backend.streams[0] in backend.released
    assert wait_until(lambda: src.status().state == "running", 2.0)
    assert src.status().reopen_count == 1


def test_mic_jack_server_gone_is_not_reopened(backend: FakeBackend, sources: list[Any]) -> None:
    src = mic(backend, sources, "system")
    src.start()
    assert wait_until(lambda: src.ring.written >= 5 * BLOCK)
    backend.streams[0].die()
    assert wait_until(lambda: src.status().state == "lost", 1.0)
    msg = src.status().message
    assert "JACK" in msg and "restart ganterp" in msg
    assert backend.abandoned == backend.streams  # never stopped or closed
    w0 = src.ring.written
    time.sleep(0.5)
    assert src.ring.written - w0 == pytest.approx(0.5 * SR, rel=0.3)
    assert len(backend.streams) == 1 and backend.rescans == 0
    t = time.monotonic()
    src.stop()
    assert time.monotonic() - t < 0.5
    assert backend.released == []


def test_mic_stop_is_idempotent_and_joins(backend: FakeBackend, sources: list[Any]) -> None:
    src = mic(backend, sources)
    src.stop()  # before start: fine
    src.start()
    src.start()  # already running: nothing
    assert len(backend.streams) == 1
    before = {t.name for t in threading.enumerate()}
    assert "ganterp-mic-watchdog" in before
    src.stop()
    src.stop()
    assert "ganterp-mic-watchdog" not in {t.name for t in threading.enumerate()}
    assert src.status().state == "stopped"


def test_mic_stamps_come_from_the_clock(backend: FakeBackend, sources: list[Any]) -> None:
    clock = ManualClock(100.0)
    src = mic(backend, sources, clock=clock, stall_timeout_s=1000.0)
    src.start()
    assert wait_until(lambda: src.ring.written > 0)
    assert src.ring.stamp_time == 100.0
    clock.advance(1.0)
    w = src.ring.written
    assert wait_until(lambda: src.ring.written > w)
    assert src.ring.stamp_time == 101.0


# -- FileSource, clock-paced ------------------------------------------------------------------


@pytest.fixture
def file_1s(tmp_path: Path) -> tuple[Path, np.ndarray]:
    x = noise(SR, 1.00625, 2)  # 8050 frames: not a whole number of blocks
    return write_audio(tmp_path / "one.wav", x, SR, "wav_f32"), x


def ring_content(src: Any) -> np.ndarray:
    return src.ring.reader(from_start=True).read()[1]


def test_file_pump_on_a_manual_clock(file_1s: tuple[Path, np.ndarray]) -> None:
    path, x = file_1s
    clock = ManualClock(10.0)
    src = FileSource(path, clock=clock, blocksize=BLOCK, ring_seconds=2.0)
    assert (src.sample_rate, src.channels) == (SR, 2)
    assert src.status().state == "starting"
    assert src.pump() == 0  # block 0 is due one block after the start
    assert src.status().state == "running"
    clock.advance(BLOCK / SR)
    assert src.pump() == 1
    assert src.ring.written == BLOCK and src.ring.stamp_time == pytest.approx(10.0 + BLOCK / SR)
    clock.advance(0.5 * BLOCK / SR)
    assert src.pump() == 0
    clock.advance(0.5 * BLOCK / SR + 0.5)  # half a second late: catch up at once
    assert src.pump() == 51
    assert src.ring.written == 52 * BLOCK
    assert src.ring.stamp_time == pytest.approx(10.0 + 52 * BLOCK / SR)
    assert src.status().position_s == pytest.approx(52 * BLOCK / SR)
    assert not src.finished
    clock.set(10.0 + 8000 / SR)
    src.pump()
    assert not src.finished and src.ring.written == 8000  # the last 50 frames are not due yet
    clock.set(10.0 + 8050 / SR)
    src.pump()
    assert src.finished and src.status().state == "ended"
    np.testing.assert_array_equal(ring_content(src), x)
    assert src.pump() == 0
    src.stop()
    assert src.status().state == "stopped" and src.finished
    with pytest.raises(RuntimeError, match="make a new one"):
        src.start()


def test_file_loop_on_a_manual_clock(tmp_path: Path) -> None:
    x = noise(SR, 0.3, 1)
    path = write_audio(tmp_path / "short.flac", x, SR, "flac")
    clock = ManualClock()
    src = FileSource(path, clock=clock, loop=True, blocksize=BLOCK, ring_seconds=4.0)
    src.pump()
    clock.advance(2.5)
    src.pump()
    assert src.ring.written == 2.5 * SR and not src.finished
    expected = np.tile(np.round(x * 32767) / 32767, (9, 1))[: int(2.5 * SR)]
    np.testing.assert_allclose(ring_content(src), expected, atol=1e-4)
    assert src.status().position_s == pytest.approx(2.5 - 8 * 0.3)
    src.stop()


def test_file_long_stall_skips_instead_of_flooding(tmp_path: Path) -> None:
    path = write_audio(tmp_path / "loop.wav", noise(SR, 0.5, 1), SR, "wav_s16")
    clock = ManualClock()
    src = FileSource(path, clock=clock, loop=True, blocksize=BLOCK, ring_seconds=1.0)
    src.pump()
    clock.advance(20.0)
    t = time.perf_counter()
    src.pump()
    assert time.perf_counter() - t < 2.0
    assert src.ring.written <= src.ring.capacity + 2 * BLOCK
    clock.advance(BLOCK / SR)
    assert src.pump() == 1  # and on schedule again afterwards
    src.stop()


def test_file_plays_in_real_time(file_1s: tuple[Path, np.ndarray]) -> None:
    path, x = file_1s
    src = FileSource(path, clock=MonotonicClock(), blocksize=BLOCK, ring_seconds=2.0)
    t0 = time.monotonic()
    src.start()
    time.sleep(0.5)
    assert src.ring.written / SR == pytest.approx(0.5, abs=0.06)
    assert src.wait_finished(3.0)
    elapsed = time.monotonic() - t0
    assert elapsed == pytest.approx(len(x) / SR, abs=0.1)
    assert src.finished and src.status().state == "ended"
    np.testing.assert_array_equal(ring_content(src), x)
    src.stop()
    assert src.status().state == "stopped"


def test_file_loop_in_real_time(tmp_path: Path) -> None:
    x = noise(SR, 0.25, 2)
    path = write_audio(tmp_path / "beat.wav", x, SR, "wav_f32")
    src = FileSource(path, clock=MonotonicClock(), loop=True, blocksize=BLOCK)
    t0 = time.monotonic()
    src.start()
    time.sleep(1.0)
    written, elapsed = src.ring.written, time.monotonic() - t0
    src.stop()
    assert written / SR == pytest.approx(elapsed, abs=0.05)
    assert not src.finished and src.status().state == "stopped"
    got = ring_content(src)
    np.testing.assert_array_equal(got, np.tile(x, (5, 1))[: len(got)])


def test_file_errors_at_construction(tmp_path: Path) -> None:
    with pytest.raises(AudioFileError, match="no such file"):
        FileSource(tmp_path / "missing.wav", clock=MonotonicClock())
    bad = tmp_path / "bad.wav"
    bad.write_text("nope")
    with pytest.raises(AudioFileError):
        FileSource(bad, clock=MonotonicClock())


def test_file_keeps_the_first_two_of_many_channels(tmp_path: Path) -> None:
    x = noise(SR, 0.2, 4)
    path = write_audio(tmp_path / "quad.wav", x, SR, "wav_f32")
    clock = ManualClock()
    src = FileSource(path, clock=clock, blocksize=BLOCK)
    assert src.channels == 2 and src.ring.channels == 2
    src.pump()
    clock.advance(1.0)
    src.pump()
    np.testing.assert_array_equal(ring_content(src), x[:, :2])


def test_file_truncated_mid_stream_plays_what_is_there(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import ganterp.live.audio.decode as decode

    good = write_audio(tmp_path / "good.mp3", noise(SR * 2, 2.0, 1), SR * 2, "mp3")
    bad = truncate(good, tmp_path / "cut.mp3", 0.5)
    monkeypatch.setattr(decode, "_check_tail", lambda *a, **k: None)  # as if probe missed it
    clock = ManualClock()
    src = FileSource(bad, clock=clock, blocksize=160)
    src.pump()
    with caplog.at_level(logging.WARNING, logger="ganterp.live.audio.file_source"):
        clock.advance(3.0)
        src.pump()
    assert src.finished and src.status().state == "ended"
    assert "truncated" in src.status().message
    assert 0.8 < src.ring.written / src.sample_rate < 1.2
    assert len(caplog.records) == 1


# -- FileSource with a monitor ------------------------------------------------------------------


def test_monitor_plays_the_same_samples_it_analyses(
    backend: FakeBackend, file_1s: tuple[Path, np.ndarray]
) -> None:
    path, x = file_1s
    src = FileSource(
        path, clock=MonotonicClock(), monitor="speakers", blocksize=BLOCK, backend=backend
    )
    assert "Speakers" in src.label
    src.start()
    stream = backend.streams[0]
    assert stream.kind == "output" and stream.channels == 2 and stream.samplerate == SR
    assert src.wait_finished(3.0)
    assert src.status().state == "ended" and src.status().underruns == 0
    out = stream.output()
    np.testing.assert_array_equal(out[: len(x)], x)
    assert not out[len(x) :].any()
    np.testing.assert_array_equal(ring_content(src), x)
    src.stop()
    assert stream.closed and src.status().state == "stopped"


def test_monitor_mono_file_to_both_speakers(backend: FakeBackend, tmp_path: Path) -> None:
    x = noise(SR, 0.3, 1)
    path = write_audio(tmp_path / "mono.wav", x, SR, "wav_f32")
    src = FileSource(
        path, clock=MonotonicClock(), monitor="speakers", blocksize=BLOCK, backend=backend
    )
    src.start()
    assert src.wait_finished(3.0)
    out = backend.streams[0].output()
    np.testing.assert_array_equal(out[: len(x), 0], x[:, 0])
    np.testing.assert_array_equal(out[: len(x), 1], x[:, 0])
    assert src.ring.channels == 1
    src.stop()


def test_monitor_picks_a_rate_the_device_takes(backend: FakeBackend, tmp_path: Path) -> None:
    path = write_audio(tmp_path / "cd.wav", noise(44100, 0.2, 2), 44100, "wav_s16")
    backend.output_rates = {48000}
    src = FileSource(path, clock=MonotonicClock(), monitor="speakers", backend=backend)
    assert src.sample_rate == 48000 and src.ring.sample_rate == 48000
    with pytest.raises(AudioInputError, match="does not accept 44100 Hz"):
        FileSource(
            path, clock=MonotonicClock(), monitor="speakers", sample_rate=44100, backend=backend
        )


def test_monitor_errors(backend: FakeBackend, file_1s: tuple[Path, np.ndarray]) -> None:
    path, _ = file_1s
    with pytest.raises(AudioInputError, match="no audio output device matches"):
        FileSource(path, clock=MonotonicClock(), monitor="hdmi", backend=backend)
    src = FileSource(path, clock=MonotonicClock(), monitor="speakers", backend=backend)
    backend.fail_open = "cannot open monitor output 'Speakers': Device unavailable"
    with pytest.raises(AudioInputError, match="Device unavailable"):
        src.start()
    src.stop()


def test_monitor_lost_continues_clock_paced_without_a_gap(
    backend: FakeBackend, file_1s: tuple[Path, np.ndarray]
) -> None:
    path, x = file_1s
    src = FileSource(
        path, clock=MonotonicClock(), monitor="speakers", blocksize=BLOCK, backend=backend
    )
    t0 = time.monotonic()
    src.start()
    time.sleep(0.4)
    backend.streams[0].die()
    assert wait_until(lambda: "monitor output" in src.status().message, 1.0)
    assert src.status().state == "running"
    assert src.wait_finished(3.0)
    assert time.monotonic() - t0 == pytest.approx(len(x) / SR, abs=0.25)
    np.testing.assert_array_equal(ring_content(src), x)  # nothing lost or repeated
    src.stop()
