"""live.video.frame_share: Syphon, Spout and the virtual camera behind the sink contract.

Their libraries exist only on their platforms (and the camera on Linux needs the
v4l2loopback kernel module), so everything around them runs here against
stand-ins with the libraries' own interfaces; the tests with the real libraries
are marked for their platform and skipped elsewhere, with the reason.
"""

from __future__ import annotations

import os
import sys
import time
import types
from dataclasses import replace

import numpy as np
import pytest

from ganterp.live.core.clock import MonotonicClock
from ganterp.live.core.errors import ConfigError
from ganterp.live.settings.schema import Config
from ganterp.live.show.outputs import make_sinks_factory
from ganterp.live.video.frame_share import (
    GL_RGBA,
    SpoutOutput,
    SyphonOutput,
    VirtualCameraOutput,
    load_library,
)
from ganterp.live.video.sink import Picture


def _picture(side: int = 64) -> np.ndarray:
    u = np.linspace(0, 255, side)
    return np.stack(np.broadcast_arrays(u[:, None], u[None, :], 200.0), -1).astype(np.uint8)


class FakeSyphon:
    """``syphon`` as syphon-python has it: a Metal server, texture helpers."""

    def __init__(self) -> None:
        self.servers: list = []
        self.copied: list[np.ndarray] = []
        lib = self

        class Server:
            def __init__(self, name):
                self.name, self.device, self.published, self.stopped = name, "mtl", [], False
                self.has_clients = True
                lib.servers.append(self)

            def publish_frame_texture(self, texture):
                self.published.append(texture)

            def stop(self):
                self.stopped = True

        self.SyphonMetalServer = Server
        self.utils = types.SimpleNamespace(
            raw=types.SimpleNamespace(create_mtl_texture=lambda dev, w, h: ("texture", dev, w, h)),
            numpy=types.SimpleNamespace(copy_image_to_mtl_texture=self._copy),
        )

    def _copy(self, image, texture):
        self.copied.append(np.array(image))


class FakeSpout:
    """``SpoutGL`` as it is: a sender taking a buffer, its size and a GL format."""

    def __init__(self, accept: bool = True) -> None:
        self.senders: list = []
        lib = self

        class Sender:
            def __init__(self):
                self.name, self.images, self.released = "", [], False
                lib.senders.append(self)

            def setSenderName(self, name):  # noqa: N802 (SpoutGL's name)
                self.name = name

            def sendImage(self, buffer, w, h, fmt, invert, fbo):  # noqa: N802
                self.images.append((np.array(buffer), w, h, fmt, invert, fbo))
                return accept

            def releaseSender(self):  # noqa: N802
                self.released = True

        self.SpoutSender = Sender


class FakeCam:
    """``pyvirtualcam``: a Camera that takes RGB frames of its size."""

    def __init__(self, fail: str = "") -> None:
        self.cameras: list = []
        self.PixelFormat = types.SimpleNamespace(RGB="rgb")
        lib = self

        class Camera:
            def __init__(self, width, height, fps, fmt, device):
                if fail:
                    raise RuntimeError(fail)
                self.args = (width, height, fps, fmt, device)
                self.device = device or "/dev/video10"
                self.frames, self.closed = [], False
                lib.cameras.append(self)

            def send(self, frame):
                assert frame.shape == (self.args[1], self.args[0], 3)
                self.frames.append(np.array(frame))

            def close(self):
                self.closed = True

        self.Camera = Camera


def test_syphon_copies_each_frame_into_its_texture_and_publishes_it():
    lib = FakeSyphon()
    out = SyphonOutput("stage", size=(160, 90), library=lib)
    out.open()
    out.send(0.0, _picture())
    server = lib.servers[0]
    assert server.name == "stage" and server.published == [("texture", "mtl", 160, 90)]
    (rgba,) = lib.copied
    assert rgba.shape == (90, 160, 4) and (rgba[..., 3] == 255).all()
    assert rgba[45, 80, 2] == pytest.approx(200, abs=2)  # RGB order, the square in the middle
    assert out.detail() == "watched"
    out.close()
    assert server.stopped and out.detail() == "no clients"


def test_spout_sends_rgba_of_its_size():
    lib = FakeSpout()
    out = SpoutOutput("stage", size=(64, 36), library=lib)
    out.open()
    out.send(0.0, _picture())
    sender = lib.senders[0]
    (buffer, w, h, fmt, invert, fbo), *_ = sender.images
    assert (sender.name, w, h, fmt, invert, fbo) == ("stage", 64, 36, GL_RGBA, False, 0)
    assert buffer.shape == (36, 64, 4)
    out.close()
    assert sender.released


def test_spout_refusing_a_frame_is_an_error():
    out = SpoutOutput("s", size=(64, 64), library=FakeSpout(accept=False))
    out.open()
    with pytest.raises(RuntimeError, match="refused"):
        out.send(0.0, _picture())


def test_the_virtual_camera_gets_rgb_frames_of_its_size():
    lib = FakeCam()
    out = VirtualCameraOutput("", size=(320, 180), fps=30, library=lib)
    out.open()
    out.send(0.0, _picture())
    cam = lib.cameras[0]
    assert cam.args == (320, 180, 30.0, "rgb", None)
    assert cam.frames[0].shape == (180, 320, 3) and out.detail() == "/dev/video10"
    out.close()
    assert cam.closed


def test_a_camera_that_cannot_open_is_retried_and_shown_on_the_hud():
    from ganterp.live.video.sink import ThreadedSink

    out = VirtualCameraOutput(
        "/dev/video9", size=(64, 64), fps=30, library=FakeCam("no v4l2loopback device")
    )
    sink = ThreadedSink(out.label, out, clock=MonotonicClock(), retry_s=0.05)
    sink.begin(0.0)
    for k in range(100):
        sink.offer(k * 0.01, Picture(_picture()))
        time.sleep(0.01)
        if sink.status().errors >= 2:
            break
    status = sink.status()
    assert status.state == "retrying" and "no v4l2loopback device" in status.line()
    sink.close()


@pytest.mark.parametrize(
    ("module", "extra", "platform", "message"),
    [
        ("syphon", "syphon", "darwin", "only on macOS"),
        ("SpoutGL", "spout", "win32", "only on Windows"),
        ("no_such_camera_lib", "camera", None, r"pip install 'ganterp\[camera\]'"),
    ],
)
def test_a_library_that_cannot_be_had_is_one_line(module, extra, platform, message):
    if platform == sys.platform:
        pytest.skip("on its own platform the library may be installed")
    with pytest.raises(ConfigError, match=message):
        load_library(module, extra, platform, "It")


def test_every_output_is_a_switchable_sink_of_the_show():
    c = Config()
    config = replace(
        c,
        syphon=replace(c.syphon, enabled=True, name="a"),
        spout=replace(c.spout, enabled=False),
        virtual_camera=replace(c.virtual_camera, enabled=True, size="320x180", fps=15),
    )
    factory = make_sinks_factory(
        config,
        clock=MonotonicClock(),
        display_size=lambda: (640, 360),
        libraries={"syphon": FakeSyphon(), "spout": FakeSpout(), "camera": FakeCam()},
    )
    source = types.SimpleNamespace(ring=None)
    sinks = {s.name: s for s in factory(source)}
    assert {"Syphon a", "Spout ganterp", "virtual camera"} <= set(sinks)
    assert sinks["Syphon a"].enabled and not sinks["Spout ganterp"].enabled
    assert sinks["Spout ganterp"].switch == "spout.enabled"
    assert sinks["virtual camera"].fps == 15 and sinks["virtual camera"].output.width == 320
    assert sinks["Syphon a"].output.width == 640  # the display's size when none is set


def test_asking_for_syphon_off_macos_stops_the_show_before_it_starts():
    if sys.platform == "darwin":
        pytest.skip("Syphon is there on macOS")
    c = Config()
    config = replace(c, syphon=replace(c.syphon, enabled=True))
    with pytest.raises(ConfigError, match="Syphon is only on macOS"):
        make_sinks_factory(config, clock=MonotonicClock(), display_size=lambda: (640, 360))


def test_a_bad_output_size_is_found_before_the_show():
    c = Config()
    config = replace(c, spout=replace(c.spout, size="huge"))
    with pytest.raises(ConfigError, match=r"spout\.size"):
        make_sinks_factory(
            config,
            clock=MonotonicClock(),
            display_size=lambda: (640, 360),
            libraries={"spout": FakeSpout()},
        )


# -- the real libraries, on their platforms -----------------------------------------------
@pytest.mark.skipif(sys.platform != "darwin", reason="Syphon needs macOS (syphon-python)")
def test_a_real_syphon_server_publishes():
    syphon = pytest.importorskip("syphon")
    out = SyphonOutput("ganterp-test", size=(64, 64), library=syphon)
    out.open()
    out.send(0.0, _picture())
    out.close()


@pytest.mark.skipif(sys.platform != "win32", reason="Spout needs Windows (SpoutGL)")
def test_a_real_spout_sender_sends():
    spout = pytest.importorskip("SpoutGL")
    out = SpoutOutput("ganterp-test", size=(64, 64), library=spout)
    out.open()
    out.send(0.0, _picture())
    out.close()


@pytest.mark.skipif(
    sys.platform == "linux" and not any(p.startswith("video") for p in os.listdir("/dev")),
    reason="a virtual camera needs a v4l2loopback device on Linux (a kernel module)",
)
def test_a_real_virtual_camera_takes_frames():
    cam = pytest.importorskip("pyvirtualcam")
    out = VirtualCameraOutput("", size=(64, 64), fps=30, library=cam)
    out.open()
    out.send(0.0, _picture())
    out.close()
