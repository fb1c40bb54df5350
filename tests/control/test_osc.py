"""OSC in and out over real UDP on 127.0.0.1, with python-osc and with liblo's tools."""

from __future__ import annotations

import random
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from audiofiles import write_audio
from pythonosc.osc_packet import OscPacket
from pythonosc.udp_client import SimpleUDPClient
from running import running_show, wait_for
from signals import sections_with_gaps

from ganterp.live.control.osc import OscIn, osc_message
from ganterp.live.control.osc_map import OscArgError, osc_addresses
from ganterp.live.core.clock import MonotonicClock
from ganterp.live.core.commands import (
    Blackout,
    Freeze,
    JumpToCategory,
    LoadPreset,
    MidiLearn,
    NextCategory,
    PreviousCategory,
    ReleaseTempo,
    ReseedZ,
    SavePreset,
    SetCategories,
    SetSetting,
    ShowHud,
    TapTempo,
)
from ganterp.live.core.stats import LogOnce
from ganterp.live.settings.presets import user_presets_dir
from ganterp.live.show.show import Show
from ganterp.models.classes import load_class_names

SR = 22050
NAMES = load_class_names()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- the table, without sockets -------------------------------------------------------------


def test_every_example_parses_and_bad_arguments_are_refused() -> None:
    table = osc_addresses(NAMES)
    assert len({a.path for a in table}) == len(table)
    for a in table:
        a.parse(a.example)  # valid
    by_path = {a.path: a for a in table}
    bad = [
        ("/ganterp/category/next", (1,)),
        ("/ganterp/category/jump", ("no such animal at all",)),
        ("/ganterp/freeze", (2,)),
        ("/ganterp/preset/load", (12,)),
        ("/ganterp/set/trajectory/truncation", (5.0,)),
        ("/ganterp/set/trajectory/truncation", ("high",)),
        ("/ganterp/set/trajectory/z_policy", ("sometimes",)),
        ("/ganterp/set/display/crossfade", (0.5,)),
        ("/ganterp/category/list", ()),
    ]
    for path, args in bad:
        with pytest.raises(OscArgError):
            by_path[path].parse(args)
    with pytest.raises(OscArgError, match="expected 1 argument"):
        by_path["/ganterp/set/trajectory/truncation"].parse((0.3, 0.4))


def _osc_in(sent: list, allow: tuple[str, ...] = ()) -> OscIn:
    import logging

    return OscIn(
        "127.0.0.1",
        0,
        send=sent.append,
        status=lambda: [1, "x"],
        class_names=NAMES,
        allow=allow,
        log_once=LogOnce(logging.getLogger("test"), MonotonicClock(), 60.0),
    )


def test_garbage_changes_nothing_and_raises_nothing() -> None:
    sent: list = []
    osc = _osc_in(sent)
    rng = random.Random(1)
    good = osc_message("/ganterp/set/trajectory/truncation", 0.5)
    for _ in range(3000):
        kind = rng.randrange(4)
        if kind == 0:
            data = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 64)))
        elif kind == 1:
            data = bytearray(good)
            data[rng.randrange(len(data))] = rng.randrange(256)
            data = bytes(data)
        elif kind == 2:
            data = good[: rng.randrange(len(good))]
        else:
            data = osc_message(f"/ganterp/{rng.choice(['x', 'set/a/b', 'freeze'])}", "?")
        osc.handle(data, ("127.0.0.1", 5))
    assert osc.counters.rejected > 2000
    assert all(isinstance(c, SetSetting) and 0.02 <= c.value <= 1 for c in sent)
    osc.stop()


def test_allow_list_refuses_other_senders() -> None:
    sent: list = []
    osc = _osc_in(sent, allow=("10.9.8.7",))
    osc.handle(osc_message("/ganterp/category/next"), ("127.0.0.1", 5))
    osc.handle(osc_message("/ganterp/category/next"), ("10.9.8.7", 5))
    assert osc.counters.refused_senders == 1 and sent == [NextCategory()]
    osc.stop()


# -- a running show -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def music(tmp_path_factory) -> Path:
    audio, _ = sections_with_gaps(SR, lengths=(2.0, 2.0), gap=0.5)
    return write_audio(tmp_path_factory.mktemp("m") / "m.wav", audio, SR)


@pytest.fixture
def show(music, tmp_path, monkeypatch) -> Iterator[tuple[Show, int, int]]:
    monkeypatch.setenv("GANTERP_PRESETS", str(tmp_path / "presets"))
    port, out_port = free_port(), free_port()
    control = {"osc_port": port, "osc_out": f"127.0.0.1:{out_port}", "osc_level_hz": 50.0}
    with running_show(music, control=control) as s:
        yield s, port, out_port


def _effect(show: Show, before: dict) -> dict[type, Callable[[object], bool]]:
    """For each kind of command, how to see that it took effect."""
    t = show.trajectory
    return {
        NextCategory: lambda c: t.segment == before["segment"] + 1,
        PreviousCategory: lambda c: t.segment == max(before["segment"] - 1, 0),
        JumpToCategory: lambda c: show.state.get()[0].target.category == c.index,
        SetCategories: lambda c: tuple(t.categories) == c.indices,
        ReseedZ: lambda c: not np.array_equal(t._z_to, before["z_to"]),
        Freeze: lambda c: t.frozen == c.on,
        Blackout: lambda c: show._blackout == c.on,
        ShowHud: lambda c: show.hud_on == c.on,
        LoadPreset: lambda c: show.config.trajectory.z_policy == "per-inflection",
        MidiLearn: lambda c: show.midi_control.learning == c.target,
        SavePreset: lambda c: (before["presets"] / f"{c.name}.toml").is_file(),
        TapTempo: lambda c: len(show.operator.tap.taps) == len(before["taps"]) + 1,
        ReleaseTempo: lambda c: not show.operator.tap.active and not show.operator.tap.taps,
        SetSetting: lambda c: _same(getattr(getattr(show.config, c.section), c.key), c.value),
    }


def _same(a: object, b: object) -> bool:
    """Equal, with OSC's 32-bit floats allowed their rounding."""
    if isinstance(a, float) and isinstance(b, float):
        return abs(a - b) <= 1e-6 * max(1.0, abs(b))
    return a == b


@pytest.mark.slow
def test_every_documented_address_changes_what_it_says(show) -> None:
    s, port, _ = show
    client = SimpleUDPClient("127.0.0.1", port)
    for address in osc_addresses(NAMES):
        command = address.parse(address.example)
        before = {
            "segment": s.trajectory.segment,
            "z_to": s.trajectory._z_to.copy(),
            "taps": list(s.operator.tap.taps),
            "presets": user_presets_dir(),
        }
        check = _effect(s, before)[type(command)]
        client.send_message(address.path, list(address.example))
        wait_for(lambda c=command, ok=check: ok(c), f"{address.path} {address.example}")
    osc_in = next(x for x in s.surfaces if isinstance(x, OscIn))
    assert osc_in.counters.rejected == 0
    # The display settings reached the picture, not only the settings.
    d = s.config.display
    assert s.effects.colour.offset == pytest.approx(127.5 * (1 - d.contrast) + 255 * d.brightness)
    assert s.delay.delay_s == d.visual_delay_ms / 1000.0
    assert s.compositor.blackout_fade_s == d.blackout_s


@pytest.mark.slow
def test_status_reply_and_events_out(show) -> None:
    s, port, out_port = show
    listener = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    listener.bind(("127.0.0.1", out_port))
    listener.settimeout(2.0)
    # The category is sent when it changes: change it now that someone listens.
    SimpleUDPClient("127.0.0.1", port).send_message("/ganterp/category/jump", ["volcano"])
    seen: dict[str, list] = {}
    end = time.monotonic() + 3.0
    while time.monotonic() < end and not {"/ganterp/level", "/ganterp/category"} <= seen.keys():
        data, _ = listener.recvfrom(65535)
        for m in OscPacket(data).messages:
            seen.setdefault(m.message.address, list(m.message.params))
    assert len(seen["/ganterp/level"]) == 4 and all(0 <= v <= 1 for v in seen["/ganterp/level"])
    index, name = seen["/ganterp/category"]
    assert (index, name) == (980, "volcano")
    # /ganterp/status answers the sender.
    asker = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    asker.bind(("127.0.0.1", 0))
    asker.settimeout(2.0)
    asker.sendto(osc_message("/ganterp/status"), ("127.0.0.1", port))
    reply = OscPacket(asker.recvfrom(65535)[0]).messages[0].message
    assert reply.address == "/ganterp/status"
    assert reply.params[0] == s.state.get()[0].target.category or reply.params[0] >= 0
    assert len(reply.params) == 8
    listener.close()
    asker.close()


@pytest.mark.slow
@pytest.mark.skipif(not shutil.which("oscsend"), reason="needs liblo-tools (oscsend, oscdump)")
def test_liblo_tools_drive_the_show_and_hear_it(show) -> None:
    s, port, out_port = show
    subprocess.run(
        ["oscsend", "localhost", str(port), "/ganterp/set/trajectory/truncation", "f", "0.73"],
        check=True,
        timeout=10,
    )
    subprocess.run(["oscsend", "localhost", str(port), "/ganterp/hud", "T"], check=True, timeout=10)
    wait_for(lambda: abs(s.config.trajectory.truncation - 0.73) < 1e-6 and s.hud_on, "oscsend")
    dump = subprocess.Popen(["oscdump", str(out_port)], stdout=subprocess.PIPE, text=True)
    try:
        lines: list[str] = []
        reader = threading.Thread(
            target=lambda: lines.extend(dump.stdout.readline() for _ in range(20)), daemon=True
        )
        reader.start()
        reader.join(timeout=5.0)
    finally:
        dump.kill()
    assert any("/ganterp/level ffff" in line for line in lines), lines[:5]


def test_readme_lists_exactly_the_address_table() -> None:
    from ganterp.live.control.osc_map import markdown_table

    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    start = readme.index("<!-- osc-table")
    block = readme[readme.index("\n", start) + 1 : readme.index("<!-- /osc-table -->")]
    assert block == markdown_table(NAMES)


@pytest.mark.slow
def test_tapped_tempo_takes_over_in_a_running_show(show) -> None:
    s, port, _ = show
    client = SimpleUDPClient("127.0.0.1", port)
    for _ in range(3):
        client.send_message("/ganterp/tempo/tap", [])
        time.sleep(0.4)
    wait_for(lambda: abs(s.status()[3] - 150.0) < 5.0, "the tapped 150 BPM in the status")
    client.send_message("/ganterp/tempo/release", [])
    wait_for(lambda: not s.operator.tap.active, "the release")


@pytest.mark.slow
def test_a_flood_of_bad_packets_over_udp_changes_nothing(show) -> None:
    s, port, _ = show
    before = s.config
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rng = random.Random(5)
    for i in range(2000):
        data = rng.randbytes(rng.randrange(1, 120)) if i % 2 else osc_message("/ganterp/nope", i)
        sock.sendto(data, ("127.0.0.1", port))
    osc_in = next(x for x in s.surfaces if isinstance(x, OscIn))
    wait_for(lambda: osc_in.counters.rejected >= 500, "the packets to be read and refused")
    frames = s.report.frames_presented
    time.sleep(0.3)
    assert s.report.frames_presented > frames  # the show kept going
    assert s.config == before and osc_in.counters.applied == 0
    assert s.report.display_errors == 0
    sock.close()
