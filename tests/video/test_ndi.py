"""live.video.ndi: the program as an NDI source, received by another process.

The end-to-end test runs a real show with its NDI sink and real receivers in
other processes, all inside a private network namespace (nothing leaves the
machine); the rest check the output against a stand-in for ``cyndilib``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import types
from pathlib import Path

import av
import numpy as np
import pytest
from audiofiles import write_audio
from signals import sections_with_gaps

from ganterp.live.bench.netns import (
    ndi_loopback_config,
    private_network,
    private_network_available,
)
from ganterp.live.core.clock import ManualClock
from ganterp.live.core.errors import ConfigError
from ganterp.live.video import ndi as ndi_module
from ganterp.live.video.fit import placement
from ganterp.live.video.ndi import NdiOutput, frame_metadata

REPO = Path(__file__).resolve().parents[2]


# -- a stand-in for cyndilib --------------------------------------------------------------
class _FakeSender:
    def __init__(self, name, ndi_groups="", clock_video=True, clock_audio=True):
        self.name, self.groups = name, ndi_groups
        self.clocked = (clock_video, clock_audio)
        self.opened = self.closed = False
        self.video: list[np.ndarray] = []
        self.audio: list[np.ndarray] = []
        self.connections = 2

    def set_video_frame(self, vf):
        self.vf = vf

    def set_audio_frame(self, af):
        self.af = af

    def open(self):
        self.opened = True

    def close(self):
        self.closed = True

    def write_video_async(self, data):
        self.video.append(np.array(data))
        self.vf.metadata.append(self.vf.pending)
        return self.opened and not self.closed

    def write_video_and_audio(self, video, audio):
        self.audio.append(np.array(audio))
        return self.write_video_async(video)

    def get_num_connections(self, timeout):
        return self.connections


class _FakeVideoFrame:
    def __init__(self):
        self.metadata: list[bytes] = []
        self.pending = b""

    def set_resolution(self, w, h):
        self.resolution = (w, h)

    def set_frame_rate(self, rate):
        self.rate = rate

    def set_fourcc(self, fourcc):
        self.fourcc = fourcc

    def set_metadata(self, data):
        self.pending = data


class _FakeAudioFrame:
    def __init__(self, max_num_samples):
        self.max_num_samples = max_num_samples


def _fake_cyndilib() -> tuple[dict, list]:
    made: list = []

    def sender(*a, **kw):
        made.append(_FakeSender(*a, **kw))
        return made[-1]

    modules = {
        "sender": types.SimpleNamespace(Sender=sender),
        "video_frame": types.SimpleNamespace(VideoSendFrame=_FakeVideoFrame),
        "audio_frame": types.SimpleNamespace(AudioSendFrame=_FakeAudioFrame),
        "wrapper.ndi_structs": types.SimpleNamespace(
            FourCC=types.SimpleNamespace(UYVY="UYVY", BGRX="BGRX", BGRA="BGRA")
        ),
    }
    return modules, made


def _picture(side: int = 64) -> np.ndarray:
    u = np.linspace(0, 255, side)
    return np.stack(np.broadcast_arrays(u[:, None], u[None, :], 128.0), -1).astype(np.uint8)


@pytest.mark.parametrize(
    ("pixel_format", "fourcc", "bytes_per_pixel"),
    [("uyvy", "UYVY", 2), ("bgrx", "BGRX", 4), ("bgra", "BGRA", 4)],
)
def test_frames_go_out_at_the_size_and_in_the_format_asked_with_their_stamp(
    pixel_format, fourcc, bytes_per_pixel
):
    modules, made = _fake_cyndilib()
    clock = ManualClock(100.0)
    out = NdiOutput(
        "stage", size=(160, 90), clock=clock, fps=60, pixel_format=pixel_format, ndi=modules
    )
    out.open()
    sender = made[0]
    assert sender.opened and sender.name == "stage" and sender.clocked == (False, False)
    assert sender.vf.resolution == (160, 90) and sender.vf.fourcc == fourcc
    assert sender.vf.rate == 60
    out.send(99.5, _picture())
    out.send(100.0, _picture())
    assert [v.shape for v in sender.video] == [(160 * 90 * bytes_per_pixel,)] * 2
    assert b'frame="1"' in sender.vf.metadata[1] and sender.vf.metadata[0].startswith(b"<ganterp")
    assert [(f, now) for f, now, _ in out.sent] == [(0, 99.5), (1, 100.0)]
    assert out.detail() == "2 receivers"
    out.close()
    assert sender.closed and out.detail() == "0 receivers"


def test_the_sound_since_the_last_frame_goes_with_it():
    from ganterp.live.audio.ring import AudioRing

    modules, made = _fake_cyndilib()
    ring = AudioRing(48000, 2, 48000)
    out = NdiOutput("s", size=(64, 64), clock=ManualClock(0.0), audio=ring, ndi=modules)
    out.open()
    ring.write(np.full((800, 2), 0.25, dtype=np.float32), 0.0)
    out.send(0.0, _picture())
    ring.write(np.full((480, 2), -0.5, dtype=np.float32), 0.01)
    out.send(0.01, _picture())
    sender = made[0]
    assert [a.shape for a in sender.audio] == [(2, 800), (2, 480)]  # channels first, as NDI
    assert sender.audio[1].dtype == np.float32 and (sender.audio[1] == -0.5).all()


def test_the_metadata_is_one_xml_element():
    assert frame_metadata(1.5, 7) == b'<ganterp shown="1.500000" frame="7"/>'


@pytest.mark.parametrize(
    ("size", "pixel_format", "message"),
    [
        ((8, 8), "uyvy", "out of range"),
        ((1280, 720), "nv12", "not one of"),
    ],
)
def test_a_bad_size_or_format_is_one_line(size, pixel_format, message):
    modules, _ = _fake_cyndilib()
    with pytest.raises(ConfigError, match=message):
        NdiOutput("s", size=size, clock=ManualClock(), pixel_format=pixel_format, ndi=modules)


def test_without_the_extra_the_error_says_how_to_install_it(monkeypatch):
    def refuse(name, *a):
        raise ImportError(f"No module named {name!r}")

    monkeypatch.setattr(ndi_module.importlib, "import_module", refuse)
    with pytest.raises(ConfigError, match=r"pip install 'ganterp\[ndi\]'"):
        ndi_module.load_cyndilib()


def test_a_sender_that_stopped_is_an_error():
    modules, made = _fake_cyndilib()
    out = NdiOutput("s", size=(64, 64), clock=ManualClock(), ndi=modules)
    out.open()
    made[0].closed = True  # the library's sender went away
    with pytest.raises(RuntimeError, match="not running"):
        out.send(0.0, _picture())


# -- the real thing, in a private network -------------------------------------------------
def _needs_ndi() -> None:
    pytest.importorskip("cyndilib", reason="the ndi extra is not installed")
    why = private_network_available()
    if why:
        pytest.skip(why)


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else 10 * np.log10(255.0**2 / mse)


def _letterboxed(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """The shown picture as the sink scales it: bicubic square centred on black, RGB."""
    side, top, left = placement(size)
    out = np.zeros((size[1], size[0], 3), dtype=np.uint8)
    square = (
        av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="rgb24")
        .reformat(width=side, height=side, format="rgb24", interpolation="BICUBIC")
        .to_ndarray()
    )
    out[top : top + side, left : left + side] = square
    return out


@pytest.fixture(scope="module")
def ndi_show(tmp_path_factory) -> Path:
    """A 12 s show sending NDI 640x360 at 30 fps; a receiver for 0-4 s, another for 7-11 s."""
    _needs_ndi()
    root = tmp_path_factory.mktemp("ndi")
    audio, _ = sections_with_gaps(48000, lengths=(5.0, 5.0))
    track = write_audio(root / "music.wav", audio, 48000)
    env = dict(os.environ, NDI_CONFIG_DIR=str(ndi_loopback_config(root / "ndi-config")))
    env["PYTHONPATH"] = os.pathsep.join([str(REPO / "tests"), env.get("PYTHONPATH", "")])
    out = root / "out"
    argv = [sys.executable, str(REPO / "tests" / "ndi_show.py"), "--out", str(out)]
    argv += ["--audio", str(track), "--seconds", "12", "--receivers", "0:4,7:4"]
    done = subprocess.run(
        private_network(argv), env=env, capture_output=True, text=True, timeout=180
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return out


@pytest.mark.slow
@pytest.mark.ndi
def test_a_receiver_in_another_process_gets_the_frames_the_show_sent(ndi_show):
    result = json.loads((ndi_show / "result.json").read_text())
    first = result["receivers"][0]
    assert first["rc"] == 0, first["stderr"]
    got = json.loads((ndi_show / "receiver0" / "received.json").read_text())
    frames = np.array(got["frames"])
    assert len(frames) > 60
    assert {(int(w), int(h)) for w, h in frames[:, 2:]} == {(640, 360)}
    # Every frame the show sent while the receiver listened arrived (NDI stamps match ours).
    sent = np.array(result["sent"])
    during = sent[(sent[:, 2] >= frames[0, 0] - 1e-3) & (sent[:, 2] <= frames[-1, 0] + 1e-3)]
    assert len(frames) >= 0.95 * len(during)
    rate = (len(frames) - 1) / (frames[-1, 0] - frames[0, 0])
    assert rate == pytest.approx(30.0, rel=0.1)
    # Shown to received: a few milliseconds on one machine.
    nearest = np.abs(frames[:, 0][:, None] - sent[:, 2][None, :]).argmin(axis=1)
    assert np.abs(frames[:, 0] - sent[nearest, 2]).max() < 0.005
    latency = frames[:, 1] - (sent[nearest, 1] + result["wall_minus_clock"])
    assert 0 < np.median(latency) < 0.1


@pytest.mark.slow
@pytest.mark.ndi
def test_what_arrives_is_the_picture_that_was_shown(ndi_show):
    result = json.loads((ndi_show / "result.json").read_text())
    got = json.loads((ndi_show / "receiver0" / "received.json").read_text())
    frames = np.array(got["frames"])
    pictures = np.load(ndi_show / "receiver0" / "frames.npz")
    shown = np.load(ndi_show / "shown.npz")
    times = result["shown_times"]
    sent = np.array(result["sent"])
    checked = []
    for k, index in enumerate(got["kept"]):
        j = int(np.abs(frames[index, 0] - sent[:, 2]).argmin())
        picture = shown[f"arr_{times.index(sent[j, 1])}"]
        reference = _letterboxed(picture, (640, 360))
        checked.append(_psnr(pictures[f"arr_{k}"], reference))
    assert len(checked) >= 5
    assert min(checked) >= 30.0, checked
    # The picture moves with the music: not one frozen frame sent over and over.
    firsts = [pictures[f"arr_{k}"] for k in range(len(got["kept"]))]
    assert max(np.abs(a.astype(int) - firsts[0]).mean() for a in firsts) > 1.0


@pytest.mark.slow
@pytest.mark.ndi
def test_the_show_goes_on_when_the_receiver_leaves_and_one_comes_back(ndi_show):
    result = json.loads((ndi_show / "result.json").read_text())
    second = result["receivers"][1]
    assert second["rc"] == 0, second["stderr"]
    again = json.loads((ndi_show / "receiver1" / "received.json").read_text())
    assert len(again["frames"]) > 60  # the source was still there, sending
    assert result["display_fps"] == pytest.approx(30.0, rel=0.05)
    status = result["status"]
    assert status["state"] == "stopped" and status["errors"] == 0
    shown = len(result["shown_times"])
    assert shown >= 0.95 * 30 * result["seconds"]
    assert status["sent"] + status["dropped"] >= shown - 1  # one frame each (the last may wait)
    assert status["dropped"] <= 0.05 * shown
