"""The audio input against a real JACK server, as if it were a sound card.

``jackd -d dummy`` gives PortAudio a JACK host API with a ``system`` device;
other processes (JACK-Client players and recorders from ``tests/jackutil.py``)
send and receive real audio through it.

Killing a JACK server poisons PortAudio in the process that used it (see
``live/audio/portaudio.py``), so the device-lost tests run this file as a script
in a subprocess with a server of its own: ``python tests/audio/test_jack.py mic``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import jackutil
import numpy as np
import pytest
from audiofiles import noise, write_audio

pytestmark = pytest.mark.jack

ROOT = Path(__file__).resolve().parents[2]
SR = 48000


def wait_until(cond, timeout: float = 3.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.01)
    return bool(cond())


# -- in-process, on the session's server ------------------------------------------------------


def test_portaudio_lists_the_jack_system_device(jack_server: object) -> None:
    from ganterp.live.audio.devices import format_device_table, list_devices, resolve_device

    found = [d for d in list_devices() if d.name == "system"]
    assert found and found[0].is_jack
    assert found[0].max_input_channels == 2 and found[0].max_output_channels == 2
    assert found[0].default_samplerate == SR
    assert resolve_device("SYST").name == "system"
    assert resolve_device(None, "output").name == "system"
    assert "JACK Audio Connection Kit" in format_device_table(list_devices())


def test_mic_receives_blocks_at_the_sample_rate(jack_server: object) -> None:
    from ganterp.live.audio.mic import MicSource
    from ganterp.live.core.clock import MonotonicClock

    src = MicSource("syst", clock=MonotonicClock(), blocksize=256)
    assert (src.sample_rate, src.channels) == (SR, 2)
    try:
        src.start()
        assert wait_until(lambda: src.ring.written > 0, 2.0)
        with jackutil.ServerWatch() as watch:
            w0, t0 = src.ring.written, time.monotonic()
            time.sleep(1.0)
            rate = (src.ring.written - w0) / (time.monotonic() - t0)
        assert src.status().state == "running"
        ok, why = watch.healthy()
        if not ok:
            pytest.skip(why)  # a starved CPU slows the dummy server itself down
        assert rate == pytest.approx(SR, rel=0.05)
        assert jackutil.ports(jackutil.PORTAUDIO_IN)  # PortAudio's JACK input ports exist
    finally:
        src.stop()
    assert src.status().state == "stopped"


def test_clicks_from_another_process_arrive_intact(jack_server: object) -> None:
    from ganterp.live.audio.mic import MicSource
    from ganterp.live.core.clock import MonotonicClock

    click = jackutil.click_train(SR, bpm=120.0, burst_s=0.005)
    period = len(click)
    assert period == 24000
    src = MicSource("system", clock=MonotonicClock(), blocksize=256, ring_seconds=4.0)
    src.start()
    try:
        with jackutil.play_through_jack(click, SR, jackutil.PORTAUDIO_IN) as player:
            assert len(player.connected) == 2  # both PortAudio inputs, nothing else
            conns = jackutil.connections()
            for _, dst in player.connected:
                assert conns[dst] == [player.port_names[0]]
            with jackutil.ServerWatch() as watch:
                reader = src.ring.reader()
                start = src.ring.written
                assert wait_until(lambda: src.ring.written - start > 2.2 * SR, 6.0)
                first, x = reader.read()
    finally:
        src.stop()
    ok, why = watch.healthy()
    if not ok:
        pytest.skip(why)  # cycles were dropped: no sample-exact check can hold
    for ch in range(2):
        onsets = jackutil.burst_onsets(x[:, ch])
        assert len(onsets) >= 4, onsets
        # 120 BPM to the sample: 0.5 s apart
        np.testing.assert_array_equal(np.diff(onsets), period)
        # and the samples themselves are bit-exact, two whole beats of them
        s = onsets[1]
        np.testing.assert_array_equal(x[s : s + 2 * period, ch], np.tile(click, 2))
    # the ring's time stamps put the clicks 0.5 s apart too (within 50 ms)
    times = [src.ring.frame_time(first + o) for o in jackutil.burst_onsets(x[:, 0])]
    assert np.allclose(np.diff(times), 0.5, atol=0.05)


def test_file_monitor_plays_through_jack(jack_server: object, tmp_path: Path) -> None:
    from ganterp.live.audio.file_source import FileSource
    from ganterp.live.core.clock import MonotonicClock

    x = noise(SR, 1.0, 2, seed=7)
    path = write_audio(tmp_path / "monitor.wav", x, SR, "wav_f32")
    src = FileSource(path, clock=MonotonicClock(), monitor="system", blocksize=256)
    assert src.sample_rate == SR
    try:
        with jackutil.record_from_jack(max_seconds=6.0) as rec, jackutil.ServerWatch() as watch:
            t0 = time.monotonic()
            src.start()
            rec.connect_sources(jackutil.PORTAUDIO_OUT)  # PortAudio's ports exist from start()
            assert src.wait_finished(6.0)
            elapsed = time.monotonic() - t0
            time.sleep(0.1)
    finally:
        src.stop()
    ok, why = watch.healthy()
    if not ok:
        pytest.skip(why)
    assert elapsed == pytest.approx(1.0, abs=0.2)
    status = src.status()
    assert status.underruns == 0, status
    np.testing.assert_array_equal(src.ring.reader(from_start=True).read()[1], x)
    # what reached JACK is the file, bit for bit, from wherever the recorder came in
    got = rec.result
    assert got is not None and got.shape[1] == 2
    nz = np.flatnonzero(got[:, 0])
    assert len(nz) > 0.5 * SR
    r0 = nz[0]
    matches = np.flatnonzero(x[:, 0] == got[r0, 0])
    j = next(j for j in matches if np.array_equal(x[j : j + 16, 0], got[r0 : r0 + 16, 0]))
    n = min(len(x) - j, len(got) - r0)
    assert n > 0.5 * SR
    np.testing.assert_array_equal(got[r0 : r0 + n, 0], x[j : j + n, 0])
    # the second port was connected a moment later (jack_connect runs once per port)
    skip = int(0.1 * SR)
    np.testing.assert_array_equal(got[r0 + skip : r0 + n, 1], x[j + skip : j + n, 1])


# -- device lost: in a subprocess with its own server ------------------------------------------


def _run_scenario(name: str, *args: str, timeout: float = 40.0) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(ROOT / "tests")])
    env.pop("JACK_DEFAULT_SERVER", None)
    t0 = time.monotonic()
    proc = subprocess.run(
        [sys.executable, str(Path(__file__)), name, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    result_line = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    assert proc.returncode == 0, (proc.returncode, proc.stdout[-2000:], proc.stderr[-2000:])
    assert result_line, proc.stdout[-2000:] + proc.stderr[-2000:]
    result = json.loads(result_line[-1][len("RESULT ") :])
    result["wall_s"] = time.monotonic() - t0
    result["stderr"] = proc.stderr
    return result


@pytest.mark.skipif(jackutil.JACKD is None, reason="jackd is not installed")
@pytest.mark.parametrize("how", ["kill", "term"])
def test_mic_survives_the_jack_server_going_away(how: str) -> None:
    r = _run_scenario("mic", how)
    assert r["rate_before"] == pytest.approx(SR, rel=0.25)  # (the server's pace)
    assert r["lost_after_s"] < 1.5, r  # noticed quickly
    assert "JACK" in r["lost_message"] and "restart ganterp" in r["lost_message"]
    # the ring kept moving, with silence, at the sample rate: downstream never stalls
    assert r["rate_while_lost"] == pytest.approx(SR, rel=0.05), r
    assert r["silence_max"] == 0.0
    # PortAudio cannot reconnect to a restarted JACK server in-process (see sources.py):
    # it stays lost, still feeding silence, and says so
    assert r["server_restarted"] is True
    assert r["state_after_restart"] == "lost" and r["reopen_count"] == 0
    assert r["rate_after_restart"] == pytest.approx(SR, rel=0.05)
    assert r["stop_s"] < 1.0  # stop() does not hang on the dead stream
    assert "Assertion" not in r["stderr"]  # and the process exits cleanly (rc 0 checked)


@pytest.mark.skipif(jackutil.JACKD is None, reason="jackd is not installed")
def test_file_monitor_survives_the_jack_server_going_away() -> None:
    r = _run_scenario("file")
    assert r["lost_message"].startswith("monitor output 'system' lost"), r
    assert r["finished"] is True and r["state"] == "ended"
    assert r["elapsed_s"] == pytest.approx(2.0, abs=0.3)
    assert r["ring_equals_file"] is True  # not a sample lost or repeated across the switch
    assert r["stop_s"] < 1.0


# -- the scenarios (run as a script) ------------------------------------------------------------


def _own_server() -> tuple[str, subprocess.Popen]:
    name = jackutil.unique_server_name("ganterp-test-lost")
    os.environ["JACK_DEFAULT_SERVER"] = name
    return name, jackutil.start_jackd(name)


def _scenario_mic(how: str) -> dict:
    name, server = _own_server()
    try:
        return _mic_lost(name, server, how)
    finally:
        jackutil.reclaim_jackd(name)  # killed servers leave a registry entry behind


def _mic_lost(name: str, server: subprocess.Popen, how: str) -> dict:
    import sounddevice  # noqa: F401 - PortAudio connects to this server

    from ganterp.live.audio.mic import MicSource
    from ganterp.live.core.clock import MonotonicClock

    r: dict = {}
    src = MicSource("system", clock=MonotonicClock(), reopen_interval_s=0.3)
    src.start()
    time.sleep(0.3)
    w0, t0 = src.ring.written, time.monotonic()
    time.sleep(0.5)
    r["rate_before"] = (src.ring.written - w0) / (time.monotonic() - t0)

    jackutil.stop_jackd(server, kill=(how == "kill"))
    t_kill = time.monotonic()
    wait_until(lambda: src.status().state == "lost", 5.0)
    r["lost_after_s"] = time.monotonic() - t_kill
    r["lost_message"] = src.status().message
    reader = src.ring.reader()
    w0, t0 = src.ring.written, src.ring.stamp_time
    time.sleep(1.0)
    # frames per second of the clock that stamped them (a starved watchdog writes in bursts)
    r["rate_while_lost"] = (src.ring.written - w0) / (src.ring.stamp_time - t0)
    _, silence = reader.read()
    r["silence_max"] = float(np.abs(silence).max()) if len(silence) else -1.0

    server = jackutil.start_jackd(name)
    r["server_restarted"] = jackutil.server_running(name)
    w0, t0 = src.ring.written, src.ring.stamp_time
    time.sleep(1.5)
    r["rate_after_restart"] = (src.ring.written - w0) / (src.ring.stamp_time - t0)
    status = src.status()
    r["state_after_restart"] = status.state
    r["reopen_count"] = status.reopen_count
    t = time.monotonic()
    src.stop()
    r["stop_s"] = time.monotonic() - t
    jackutil.stop_jackd(server)
    return r


def _scenario_file() -> dict:
    name, server = _own_server()
    try:
        return _file_lost(server)
    finally:
        jackutil.reclaim_jackd(name)


def _file_lost(server: subprocess.Popen) -> dict:
    import tempfile

    import sounddevice  # noqa: F401

    from ganterp.live.audio.file_source import FileSource
    from ganterp.live.core.clock import MonotonicClock

    r: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        x = noise(SR, 2.0, 2, seed=3)
        path = write_audio(Path(tmp) / "two.wav", x, SR, "wav_f32")
        src = FileSource(path, clock=MonotonicClock(), monitor="system", blocksize=256)
        t0 = time.monotonic()
        src.start()
        time.sleep(0.6)
        jackutil.stop_jackd(server, kill=True)
        wait_until(lambda: "monitor" in src.status().message, 3.0)
        r["lost_message"] = src.status().message
        src.wait_finished(5.0)
        r["elapsed_s"] = time.monotonic() - t0
        r["finished"] = src.finished
        r["state"] = src.status().state
        got = src.ring.reader(from_start=True).read()[1]
        r["ring_equals_file"] = bool(np.array_equal(got, x))
        t = time.monotonic()
        src.stop()
        r["stop_s"] = time.monotonic() - t
    return r


if __name__ == "__main__":
    scenario = sys.argv[1]
    if scenario == "mic":
        result = _scenario_mic(sys.argv[2])
    elif scenario == "file":
        result = _scenario_file()
    else:
        raise SystemExit(f"unknown scenario {scenario!r}")
    print("RESULT " + json.dumps(result), flush=True)
    # a normal interpreter exit: at-exit handlers must neither hang nor abort
