"""JackSource: a JACK client of its own, against real JACK servers.

The in-process tests use the session's server (``jack_server``). The server
restart tests kill and restart a server of their own in a subprocess (this file
run as a script: ``python tests/audio/test_jack_source.py restart kill``), so
that nothing the pytest process holds (PortAudio's JACK client, see
``live/audio/portaudio.py``) is on a server that dies.
"""

from __future__ import annotations

import importlib.abc
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jackutil
import numpy as np
import pytest

from ganterp.live.audio.jack_source import JackSource, match_ports
from ganterp.live.core.clock import MonotonicClock
from ganterp.live.core.errors import AudioInputError

ROOT = Path(__file__).resolve().parents[2]
SR = 48000
BPM = 240.0  # clicks 0.25 s apart: four onsets a second


def wait_until(cond: Callable[[], bool], timeout: float = 3.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.01)
    return bool(cond())


def jack_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("ganterp-jack")]


def check_clicks(x: np.ndarray, click: np.ndarray) -> None:
    """Every channel of ``x`` holds the looped click train, sample for sample."""
    period = len(click)
    for ch in range(x.shape[1]):
        onsets = jackutil.burst_onsets(x[:, ch])
        assert len(onsets) >= 3, (ch, onsets)
        np.testing.assert_array_equal(np.diff(onsets), period)
        s = onsets[0]
        np.testing.assert_array_equal(x[s : s + 2 * period, ch], np.tile(click, 2))


# -- without a server ------------------------------------------------------------------------


def test_match_ports_searches_case_insensitively_in_natural_order() -> None:
    names = [
        "system:capture_10",
        "system:capture_2",
        "system:capture_1",
        "PortAudio:out_1",
        "my-synth:out_L",
        "my-synth:out_R",
    ]
    assert match_ports(names, "system:capture_") == [
        "system:capture_1",
        "system:capture_2",
        "system:capture_10",
    ]
    assert match_ports(names, "MY-SYNTH") == ["my-synth:out_L", "my-synth:out_R"]
    assert match_ports(names, r"^system:capture_1\d*$") == ["system:capture_1", "system:capture_10"]
    assert match_ports(names, "out_[") == []  # not a valid expression: a plain substring
    assert match_ports(["a:out_[1]"], "out_[") == ["a:out_[1]"]
    assert match_ports(names, "nothing") == []


def test_missing_jack_client_is_a_one_line_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "jack", None)  # "import jack" raises ImportError
    with pytest.raises(AudioInputError) as err:
        JackSource(clock=MonotonicClock())
    assert str(err.value) == (
        "JACK input needs the JACK-Client package: pip install 'ganterp[jack]'"
    )


def test_missing_libjack_is_a_one_line_error(monkeypatch: pytest.MonkeyPatch) -> None:
    class NoLibjack(importlib.abc.MetaPathFinder):
        def find_spec(self, name: str, path: Any, target: Any = None) -> None:
            if name == "jack":
                raise OSError("JACK library not found")
            return None

    monkeypatch.delitem(sys.modules, "jack", raising=False)
    monkeypatch.setattr(sys, "meta_path", [NoLibjack(), *sys.meta_path])
    with pytest.raises(AudioInputError) as err:
        JackSource(clock=MonotonicClock())
    msg = str(err.value)
    assert msg.startswith("JACK input needs the JACK library") and "JACK library not found" in msg
    assert "\n" not in msg


# -- on the session's server -----------------------------------------------------------------


@pytest.mark.jack
def test_no_server_is_a_one_line_error(jack_server: Any) -> None:
    absent = f"ganterp-test-absent-{os.getpid()}"
    with pytest.raises(AudioInputError) as err:
        JackSource(clock=MonotonicClock(), server=absent)
    assert str(err.value) == (
        f"no JACK server named '{absent}' is running (start jackd, or use --input mic)"
    )


@pytest.mark.jack
def test_no_server_without_a_name(monkeypatch: pytest.MonkeyPatch) -> None:
    if jackutil.JACKD is None:
        pytest.skip("jackd is not installed")
    monkeypatch.delenv("JACK_DEFAULT_SERVER", raising=False)
    if jackutil.server_running("default"):
        pytest.skip("a JACK server named 'default' runs on this machine")
    with pytest.raises(AudioInputError) as err:
        JackSource(clock=MonotonicClock())
    assert str(err.value) == "no JACK server is running (start jackd, or use --input mic)"


@pytest.mark.jack
def test_no_matching_port_lists_the_output_ports(jack_server: Any) -> None:
    src = JackSource("no-such-synth", clock=MonotonicClock(), client_name="gt-nomatch")
    try:
        with pytest.raises(AudioInputError) as err:
            src.start()
        msg = str(err.value)
        assert msg.startswith("no JACK output port matches 'no-such-synth'; output ports: ")
        assert "system:capture_1, system:capture_2" in msg and "\n" not in msg
        assert src.status().state == "stopped" and src.status().message == msg
        assert not jack_threads()
    finally:
        src.stop()


@pytest.mark.jack
def test_clicks_from_another_process_arrive_bit_exact(jack_server: Any) -> None:
    click = jackutil.click_train(SR, bpm=BPM)
    src = JackSource(clock=MonotonicClock(), client_name="gt-jsrc")
    assert (src.sample_rate, src.channels, src.ring.channels) == (SR, 2, 2)
    assert src.label == "jack: physical capture -> gt-jsrc (2 ch) @ 48000 Hz"
    src.start()
    try:
        conns = jackutil.connections()
        assert conns["gt-jsrc:in_1"] == ["system:capture_1"]
        assert conns["gt-jsrc:in_2"] == ["system:capture_2"]
        with jackutil.play_through_jack(click, SR, r"^gt-jsrc:in_\d+$") as player:
            assert len(player.connected) == 2
            with jackutil.ServerWatch() as watch:
                reader = src.ring.reader()
                w0, t0 = src.ring.written, time.monotonic()
                assert wait_until(lambda: src.ring.written - w0 > 1.2 * SR, 4.0)
                rate = (src.ring.written - w0) / (time.monotonic() - t0)
                first, x = reader.read()
        status = src.status()
    finally:
        src.stop()
    assert status.state == "running" and status.reopen_count == 0, status
    ok, why = watch.healthy()
    if not ok:
        pytest.skip(why)  # a starved CPU slows the dummy server itself down
    assert rate == pytest.approx(SR, rel=0.05)
    # (xruns happen while other clients join the graph: counted, as input overflows too)
    assert status.overflows == status.xruns, status
    check_clicks(x, click)
    # the ring's stamps put the clicks 0.25 s apart too (within 50 ms)
    times = [src.ring.frame_time(first + o) for o in jackutil.burst_onsets(x[:, 0])]
    assert np.allclose(np.diff(times), 60.0 / BPM, atol=0.05)


@pytest.mark.jack
def test_a_pattern_picks_the_source_and_one_port_feeds_every_input(jack_server: Any) -> None:
    click = jackutil.click_train(SR, bpm=BPM)
    # The player sends into the speakers; the source finds it by name.
    with jackutil.play_through_jack(
        click, SR, "^system:playback_1$", client_name="gt-synth", exclusive=False
    ):
        src = JackSource("GT-SYNTH:out", clock=MonotonicClock(), client_name="gt-jsrc2")
        src.start()
        try:
            conns = jackutil.connections()
            assert conns["gt-jsrc2:in_1"] == ["gt-synth:out_1"]
            assert conns["gt-jsrc2:in_2"] == ["gt-synth:out_1"]
            with jackutil.ServerWatch() as watch:
                reader = src.ring.reader()
                w0 = src.ring.written
                assert wait_until(lambda: src.ring.written - w0 > 1.2 * SR, 4.0)
                _, x = reader.read()
        finally:
            src.stop()
    ok, why = watch.healthy()
    if not ok:
        pytest.skip(why)
    check_clicks(x, click)


@pytest.mark.jack
def test_stop_is_idempotent_fast_and_leaves_nothing(jack_server: Any) -> None:
    src = JackSource(clock=MonotonicClock(), client_name="gt-jstop", channels=1)
    src.stop()  # before start: closes the client
    assert not jackutil.ports("^gt-jstop:")
    src.start()  # after stop: a new client
    src.start()  # already running: nothing
    assert jackutil.ports("^gt-jstop:") == ["gt-jstop:in_1"]
    assert jack_threads() == ["ganterp-jack-watchdog"]
    assert wait_until(lambda: src.ring.written > 0, 2.0)
    t = time.monotonic()
    src.stop()
    src.stop()
    assert time.monotonic() - t < 0.5
    assert src.status().state == "stopped" and not src.finished
    assert not jack_threads()
    assert not jackutil.ports("^gt-jstop:")
    written = src.ring.written
    time.sleep(0.1)
    assert src.ring.written == written  # nothing writes after stop


@pytest.mark.jack
def test_make_source_builds_a_jack_input(jack_server: Any) -> None:
    from ganterp.live.settings.schema import AudioSettings
    from ganterp.live.show.build import make_source

    src = make_source(AudioSettings(input="jack", device="system:capture_1"), MonotonicClock())
    try:
        assert isinstance(src, JackSource)
        assert src.ports == "system:capture_1" and src.channels == 2
        assert src.label == "jack: 'system:capture_1' -> ganterp (2 ch) @ 48000 Hz"
    finally:
        src.stop()


# -- server killed and restarted: in a subprocess with its own server ------------------------


def _run_scenario(*args: str, timeout: float = 40.0) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(ROOT / "tests")])
    env.pop("JACK_DEFAULT_SERVER", None)
    proc = subprocess.run(
        [sys.executable, str(Path(__file__)), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    assert proc.returncode == 0, (proc.returncode, proc.stdout[-2000:], proc.stderr[-2000:])
    assert lines, proc.stdout[-2000:] + proc.stderr[-2000:]
    result = json.loads(lines[-1][len("RESULT ") :])
    result["stderr"] = proc.stderr
    return result


@pytest.mark.jack
@pytest.mark.skipif(jackutil.JACKD is None, reason="jackd is not installed")
@pytest.mark.parametrize("how", ["kill", "term"])
def test_survives_a_server_restart(how: str) -> None:
    r = _run_scenario("restart", how)
    assert r["sounddevice_loaded"] is False  # JACK-Client alone, no PortAudio
    assert r["clicks_before"] >= 2, r  # real audio flowed first
    # gone: noticed at once, said in one line, silence fed at the sample rate
    assert r["lost_after_s"] < 1.0, r
    assert (
        r["lost_message"].startswith("the JACK server 'ganterp-test-jsrc")
        and "went away" in (r["lost_message"])
    )
    assert "\n" not in r["lost_message"]
    assert r["rate_while_lost"] == pytest.approx(SR, rel=0.05), r
    assert r["silence_max"] == 0.0
    # back at another rate: not used, still silence, and said why
    assert r["state_at_44100"] == "lost" and r["reopen_count_at_44100"] == 0, r
    assert "is back at 44100 Hz, but this show runs at 48000 Hz" in r["message_at_44100"]
    assert r["rate_at_44100"] == pytest.approx(SR, rel=0.05), r
    # back at the show's rate: reconnected by itself, real audio again
    assert r["back_after_s"] < 3.0, r
    assert r["state_after"] == "running" and r["reopen_count_after"] == 1, r
    assert r["connected_after"] == ["system:capture_1"], r
    if r["healthy_after"]:
        assert r["clicks_exact_after"] is True, r
        assert r["rate_after"] == pytest.approx(SR, rel=0.05), r
    else:
        assert r["clicks_after"] >= 2, r
    assert r["stop_s"] < 0.5 and r["threads_after_stop"] == [], r
    assert "Traceback" not in r["stderr"]


@pytest.mark.jack
@pytest.mark.skipif(jackutil.JACKD is None, reason="jackd is not installed")
def test_a_stuck_server_gives_silence_until_it_runs_again() -> None:
    r = _run_scenario("stall")
    assert 0.4 < r["lost_after_s"] < 1.5, r  # stall_timeout_s = 0.5
    assert r["lost_message"].startswith("no audio from the JACK server"), r
    assert r["rate_while_stuck"] == pytest.approx(SR, rel=0.05), r
    assert r["silence_max"] == 0.0
    assert r["back_after_s"] < 1.0, r
    assert r["state_after"] == "running" and r["reopen_count_after"] == 0, r  # same client
    assert r["clicks_after"] >= 2, r
    assert "Traceback" not in r["stderr"]


# -- the scenarios (run as a script) ---------------------------------------------------------


def _clicks(x: np.ndarray) -> int:
    return len(jackutil.burst_onsets(x[:, 0])) if len(x) else 0


def _scenario_restart(how: str) -> dict:
    name = jackutil.unique_server_name("ganterp-test-jsrc")
    os.environ["JACK_DEFAULT_SERVER"] = name
    server = jackutil.start_jackd(name)
    try:
        return _restart(name, how, server)
    finally:
        jackutil.reclaim_jackd(name)  # a killed server leaves its registry entry behind


def _restart(name: str, how: str, server: subprocess.Popen) -> dict:
    r: dict = {}
    click = jackutil.click_train(SR, bpm=BPM)
    target = r"^gt-jsrc:in_\d+$"
    src = JackSource(clock=MonotonicClock(), client_name="gt-jsrc", reopen_interval_s=0.3)
    try:
        src.start()
        with jackutil.play_through_jack(click, SR, target, client_name="gt-clicks"):
            reader = src.ring.reader()
            time.sleep(0.8)
            r["clicks_before"] = _clicks(reader.read()[1])
            jackutil.stop_jackd(server, kill=(how == "kill"))
            t_gone = time.monotonic()
            wait_until(lambda: src.status().state == "lost", 3.0)
            r["lost_after_s"] = time.monotonic() - t_gone
            r["lost_message"] = src.status().message
        # Gone: the ring goes on with silence (rate by the stamping clock: the watchdog
        # writes every 0.1 s).
        reader = src.ring.reader()
        f0, t0 = src.ring.stamp
        time.sleep(1.0)
        f1, t1 = src.ring.stamp
        r["rate_while_lost"] = (f1 - f0) / (t1 - t0)
        _, silence = reader.read()
        r["silence_max"] = float(np.abs(silence).max()) if len(silence) else -1.0

        # Back at another rate: left alone.
        server = jackutil.start_jackd(name, rate=44100)
        f0, t0 = src.ring.stamp
        time.sleep(1.0)
        f1, t1 = src.ring.stamp
        r["rate_at_44100"] = (f1 - f0) / (t1 - t0)
        status = src.status()
        r["state_at_44100"] = status.state
        r["message_at_44100"] = status.message
        r["reopen_count_at_44100"] = status.reopen_count
        jackutil.stop_jackd(server, kill=(how == "kill"))

        # Back at the show's rate: reconnects by itself.
        server = jackutil.start_jackd(name)
        t_back = time.monotonic()
        wait_until(lambda: src.status().state == "running", 5.0)
        r["back_after_s"] = time.monotonic() - t_back
        status = src.status()
        r["state_after"] = status.state
        r["reopen_count_after"] = status.reopen_count
        r["connected_after"] = jackutil.connections().get("gt-jsrc:in_1", [])
        with (
            jackutil.play_through_jack(click, SR, target, client_name="gt-clicks"),
            jackutil.ServerWatch() as watch,
        ):
            reader = src.ring.reader()
            w0, t0 = src.ring.written, time.monotonic()
            wait_until(lambda: src.ring.written - w0 > 1.2 * SR, 4.0)
            r["rate_after"] = (src.ring.written - w0) / (time.monotonic() - t0)
            _, x = reader.read()
        r["healthy_after"] = watch.healthy()[0]
        r["clicks_after"] = _clicks(x)
        try:
            check_clicks(x, click)
            r["clicks_exact_after"] = True
        except AssertionError as exc:
            r["clicks_exact_after"] = " ".join(str(exc).split())[:300]
        t = time.monotonic()
        src.stop()
        src.stop()
        r["stop_s"] = time.monotonic() - t
        r["threads_after_stop"] = jack_threads()
        r["sounddevice_loaded"] = "sounddevice" in sys.modules
    finally:
        src.stop()
        jackutil.stop_jackd(server)
    return r


def _scenario_stall() -> dict:
    name = jackutil.unique_server_name("ganterp-test-jsrc")
    os.environ["JACK_DEFAULT_SERVER"] = name
    server = jackutil.start_jackd(name)
    try:
        return _stall(server)
    finally:
        server.send_signal(signal.SIGCONT)
        jackutil.stop_jackd(server)
        jackutil.reclaim_jackd(name)


def _stall(server: subprocess.Popen) -> dict:
    r: dict = {}
    click = jackutil.click_train(SR, bpm=BPM)
    src = JackSource(clock=MonotonicClock(), client_name="gt-jsrc", reopen_interval_s=0.3)
    try:
        src.start()
        with jackutil.play_through_jack(click, SR, r"^gt-jsrc:in_\d+$", client_name="gt-clicks"):
            time.sleep(0.3)
            server.send_signal(signal.SIGSTOP)
            t_stuck = time.monotonic()
            wait_until(lambda: src.status().state == "lost", 3.0)
            r["lost_after_s"] = time.monotonic() - t_stuck
            r["lost_message"] = src.status().message
            reader = src.ring.reader()
            f0, t0 = src.ring.stamp
            time.sleep(1.0)
            f1, t1 = src.ring.stamp
            r["rate_while_stuck"] = (f1 - f0) / (t1 - t0)
            _, silence = reader.read()
            r["silence_max"] = float(np.abs(silence).max()) if len(silence) else -1.0
            server.send_signal(signal.SIGCONT)
            t_back = time.monotonic()
            wait_until(lambda: src.status().state == "running", 3.0)
            r["back_after_s"] = time.monotonic() - t_back
            status = src.status()
            r["state_after"] = status.state
            r["reopen_count_after"] = status.reopen_count
            reader = src.ring.reader()
            time.sleep(1.0)
            r["clicks_after"] = _clicks(reader.read()[1])
    finally:
        src.stop()
    return r


if __name__ == "__main__":
    if sys.argv[1] == "restart":
        result = _scenario_restart(sys.argv[2])
    elif sys.argv[1] == "stall":
        result = _scenario_stall()
    else:
        raise SystemExit(f"unknown scenario {sys.argv[1]!r}")
    print("RESULT " + json.dumps(result), flush=True)
    # a normal interpreter exit: no client left for libjack to trip over
