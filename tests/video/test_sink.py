"""live.video.sink: every output behind one newest-wins slot, never slowing the show."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from ganterp.live.core.clock import MonotonicClock
from ganterp.live.video.sink import Picture, Sink, ThreadedSink

PICTURE = Picture(np.zeros((8, 8, 3), dtype=np.uint8))


class FakeOutput:
    """An output that records what it was asked to do; it can fail or block on demand."""

    label = "fake"

    def __init__(self) -> None:
        self.sent: list[float] = []
        self.opens = 0
        self.closes = 0
        self.fail_opens = 0  # the next N opens raise
        self.fail_sends = 0  # the next N sends raise
        self.block = threading.Event()  # set: sends block until released
        self.release = threading.Event()
        self.send_s = 0.0

    def open(self) -> None:
        self.opens += 1
        if self.fail_opens:
            self.fail_opens -= 1
            raise OSError("no such device")

    def send(self, now: float, image: np.ndarray) -> None:
        assert image.shape == (8, 8, 3)
        if self.block.is_set():
            self.release.wait(10.0)
        if self.fail_sends:
            self.fail_sends -= 1
            raise RuntimeError("connection reset")
        if self.send_s:
            time.sleep(self.send_s)
        self.sent.append(now)

    def detail(self) -> str:
        return f"{len(self.sent)} out"

    def close(self) -> None:
        self.closes += 1


def _wait(cond, timeout: float = 5.0) -> None:
    end = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.005)


def _sink(output: FakeOutput, **kw) -> ThreadedSink:
    sink = ThreadedSink("fake out", output, clock=MonotonicClock(), **kw)
    sink.begin(0.0)
    return sink


def test_it_follows_the_protocol_and_sends_what_is_offered():
    out = FakeOutput()
    sink = _sink(out)
    assert isinstance(sink, Sink)
    sink.offer(1.0, PICTURE)
    _wait(lambda: out.sent == [1.0])
    status = sink.status()
    assert (status.state, status.sent, status.dropped, status.detail) == (
        "running",
        1,
        0,
        "1 out",
    )
    final = sink.close()
    assert final.state == "stopped" and out.closes >= 1


def test_a_busy_output_loses_older_frames_to_newer_ones_and_counts_them():
    out = FakeOutput()
    out.send_s = 0.05
    sink = _sink(out)
    for k in range(40):  # 400 fps against 20 sends a second
        sink.offer(k * 0.0025, PICTURE)
        time.sleep(0.0025)
    _wait(lambda: sink.status().sent + sink.status().dropped == 40)
    status = sink.close()
    assert status.dropped > 20 and status.sent >= 2
    assert out.sent[-1] == pytest.approx(39 * 0.0025)  # the newest frame always goes out


def test_fps_takes_one_frame_per_period():
    out = FakeOutput()
    sink = _sink(out, fps=10.0)
    for k in range(60):  # 1 s at 60 fps
        sink.offer(k / 60, PICTURE)
        _wait(lambda: sink.status().sent + sink.status().dropped >= len(out.sent))
        time.sleep(0.002)
    _wait(lambda: sink.status().sent + sink.status().dropped == 10)
    sink.close()
    assert len(out.sent) + sink.status().dropped == 10


def test_a_failing_send_is_reported_and_retried_until_it_works():
    out = FakeOutput()
    out.fail_sends = 2
    sink = _sink(out, retry_s=0.05)
    for k in range(100):
        sink.offer(k * 0.01, PICTURE)
        time.sleep(0.01)
        if out.sent:
            break
    assert out.sent, "never recovered"
    status = sink.status()
    assert status.state == "running" and status.errors == 2
    assert status.error == "connection reset"
    assert out.opens == 3  # reopened after each failure
    sink.close()


def test_an_output_that_cannot_open_is_retried_and_shown_as_retrying(caplog):
    out = FakeOutput()
    out.fail_opens = 1000
    sink = _sink(out, retry_s=0.02)
    for k in range(500):  # an attempt whenever a frame comes and the pause is over
        sink.offer(k * 0.01, PICTURE)
        time.sleep(0.01)
        if out.opens >= 3:
            break
    assert out.opens >= 3
    status = sink.status()
    assert status.state == "retrying" and not status.healthy
    assert "no such device" in status.line()
    assert sum("no such device" in r.message for r in caplog.records) == 1  # logged once
    out.fail_opens = 0
    for k in range(200):
        sink.offer(k * 0.01, PICTURE)
        time.sleep(0.01)
        if out.sent:
            break
    assert sink.status().state == "running"
    sink.close()


def test_without_retries_a_failure_is_final():
    out = FakeOutput()
    out.fail_opens = 1
    sink = _sink(out, retry_s=0.0)
    sink.offer(0.0, PICTURE)
    _wait(lambda: sink.status().state == "failed")
    sink.offer(0.1, PICTURE)
    time.sleep(0.05)
    assert out.opens == 1 and not out.sent
    assert sink.close().state == "failed"


def test_a_stalled_send_is_reported_and_never_blocks_the_caller():
    out = FakeOutput()
    out.block.set()
    sink = _sink(out, stall_s=0.1)
    sink.offer(0.0, PICTURE)
    _wait(lambda: out.opens == 1)
    started = time.perf_counter()
    for k in range(1, 200):
        sink.offer(k * 0.001, PICTURE)
    assert time.perf_counter() - started < 0.05  # 200 offers against a blocked output
    _wait(lambda: sink.status().state == "stalled")
    status = sink.status()
    assert status.dropped == 198 and "has not returned" in status.error
    out.release.set()
    _wait(lambda: sink.status().state == "running")
    sink.close()


def test_closing_a_stuck_sink_returns_and_says_so():
    out = FakeOutput()
    out.block.set()
    sink = _sink(out, stall_s=0.1)
    sink.offer(0.0, PICTURE)
    time.sleep(0.2)
    started = time.perf_counter()
    status = sink.close()
    assert time.perf_counter() - started < 3.0
    assert status.state == "stalled"
    out.release.set()


def test_switching_off_closes_the_output_and_on_opens_it_again():
    out = FakeOutput()
    sink = _sink(out)
    sink.offer(0.0, PICTURE)
    _wait(lambda: len(out.sent) == 1)
    sink.set_enabled(False)
    _wait(lambda: out.closes >= 1)
    assert sink.status().state == "off"
    sink.offer(0.1, PICTURE)
    time.sleep(0.05)
    assert len(out.sent) == 1 and sink.status().dropped == 0
    sink.set_enabled(True)
    sink.offer(0.2, PICTURE)
    _wait(lambda: len(out.sent) == 2)
    assert out.opens == 2 and sink.status().state == "running"
    sink.close()


def test_a_sink_switched_off_from_the_start_opens_nothing():
    out = FakeOutput()
    sink = _sink(out, enabled=False)
    sink.offer(0.0, PICTURE)
    time.sleep(0.05)
    assert out.opens == 0 and sink.status().state == "off"
    sink.close()


def test_the_status_line_reads_well():
    out = FakeOutput()
    sink = _sink(out)
    sink.offer(0.0, PICTURE)
    _wait(lambda: len(out.sent) == 1)
    assert sink.status().line() == "fake out: 1 out, 1 sent"
    sink.close()
