"""live.video.record: the show's recording at any frame size, letterboxed, in sync."""

from __future__ import annotations

import av
import numpy as np
import pytest

from ganterp.live.audio.ring import AudioRing
from ganterp.live.core.clock import ManualClock
from ganterp.live.video.record import Recorder
from ganterp.live.video.sink import Picture

SR = 48000
FPS = 30.0


def _record(path, size, seconds: float = 2.0) -> tuple[list[np.ndarray], np.ndarray]:
    """Offer grey squares whose level steps with time and a click each second; decode."""
    clock = ManualClock(0.0)
    ring = AudioRing(SR * 4, 2, SR)
    recorder = Recorder(path, ring=ring, clock=clock, fps=FPS, size=size, preset="ultrafast")
    recorder.begin(0.0)
    hop = int(SR / FPS)
    for k in range(int(seconds * FPS)):
        block = np.zeros((hop, 2), dtype=np.float32)
        if k % 30 == 0:
            block[:48] = 0.8  # a click at each whole second
        clock.advance(hop / SR)
        ring.write(block, clock.now())
        level = 40 + 5 * (k // 6)  # a new level every 0.2 s
        recorder.offer(k / FPS, Picture(np.full((64, 64, 3), level, dtype=np.uint8)))
    report = recorder.close(seconds)
    assert report.dropped == 0 and report.repeated == 0
    with av.open(str(path)) as c:
        frames = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    with av.open(str(path)) as c:
        sound = np.concatenate([f.to_ndarray()[0] for f in c.decode(audio=0)])
    return frames, sound


@pytest.mark.parametrize(("size", "shape"), [((1920, 1080), (1080, 1920, 3)), (96, (96, 96, 3))])
def test_a_recording_is_letterboxed_at_its_size_with_the_sound_in_sync(tmp_path, size, shape):
    frames, sound = _record(tmp_path / "r.mp4", size)
    assert len(frames) == 60 and frames[0].shape == shape
    width = shape[1]
    side, left = shape[0], (width - shape[0]) // 2
    for k in (0, 29, 59):
        centre = frames[k][:, left : left + side].astype(float).mean()
        assert centre == pytest.approx(40 + 5 * (k // 6), abs=3)
        if left:
            assert frames[k][:, : left - 2].max() < 20  # black bars
    clicks = np.flatnonzero(np.abs(sound) > 0.4)
    assert abs(sound.shape[0] / SR - 2.0) < 0.05
    assert clicks.size and abs(clicks[0] / SR) < 0.05  # the first click at 0 s (AAC's delay)
    later = clicks[clicks > SR // 2]
    assert later.size and abs(later[0] / SR - 1.0) < 0.05


def test_a_slow_encoder_drops_pictures_never_sound(tmp_path) -> None:
    import time

    from ganterp.live.core.clock import MonotonicClock

    clock = MonotonicClock()
    ring = AudioRing(SR // 2, 2, SR)  # half a second: less than a backlog of pictures takes
    recorder = Recorder(
        tmp_path / "s.mp4", ring=ring, clock=clock, fps=FPS, size=64, queue_frames=8
    )
    write_frame = recorder._mux.write_frame

    def slow(frame, index=None):
        time.sleep(0.1)  # a third of the frame rate
        write_frame(frame, index)

    recorder._mux.write_frame = slow
    t0 = clock.now()
    recorder.begin(t0)
    hop = int(SR / FPS)
    for k in range(int(2.0 * FPS)):
        while clock.now() < t0 + (k + 1) / FPS:
            time.sleep(0.002)
        ring.write(np.full((hop, 2), 0.1, dtype=np.float32), clock.now())
        recorder.offer(clock.now(), Picture(np.full((64, 64, 3), 90, dtype=np.uint8)))
    report = recorder.close(t0 + 2.0)
    assert report.dropped > 0 and report.repeated > 0  # the pictures could not keep up
    assert recorder._reader.dropped == 0 and report.audio_s == pytest.approx(2.0, abs=0.05)
    assert report.video_s == pytest.approx(2.0, abs=0.05)
