"""Helpers for tests that run a real JACK server (``jackd -d dummy``).

Everything talks to the server named by ``JACK_DEFAULT_SERVER`` (the
``jack_server`` fixture in ``tests/conftest.py`` sets it for the whole session),
or to the ``server`` given explicitly. Players and recorders run in their own
Python processes (JACK-Client), so a test's PortAudio sees them as other
programs, exactly like a DJ mixer or a DAW sending audio in.

Reusable pieces:

* :func:`start_jackd` / :func:`stop_jackd`: a private server.
* :func:`ports`, :func:`connections`, :func:`connect`, :func:`disconnect`.
* :func:`play_through_jack`: play a signal (looped) into ports matching a pattern.
* :func:`record_from_jack`: record what ports matching a pattern send.
* :func:`click_train`: the test signal (bursts at a fixed tempo).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

JACKD = shutil.which("jackd")

# PortAudio's JACK client ports (the client is "PortAudio", or "PortAudio-01" for a second one).
PORTAUDIO_IN = r"^PortAudio(-\d+)?:in_\d+$"
PORTAUDIO_OUT = r"^PortAudio(-\d+)?:out_\d+$"


def jack_env(server: str | None = None) -> dict[str, str]:
    """The environment for a JACK command talking to ``server`` (default: the current one)."""
    env = dict(os.environ)
    if server is not None:
        env["JACK_DEFAULT_SERVER"] = server
    return env


def _run(
    args: Sequence[str], server: str | None, timeout: float = 5.0
) -> subprocess.CompletedProcess:
    return subprocess.run(
        list(args), env=jack_env(server), capture_output=True, text=True, timeout=timeout
    )


def server_running(server: str | None = None) -> bool:
    """Whether the server accepts clients (``jack_lsp`` succeeds)."""
    try:
        return _run(["jack_lsp"], server, timeout=3.0).returncode == 0
    except subprocess.TimeoutExpired:
        return False


def start_jackd(
    name: str,
    *,
    rate: int = 48000,
    period: int = 256,
    timeout: float = 10.0,
    log_path: Path | None = None,
) -> subprocess.Popen:
    """Start ``jackd --no-realtime -n NAME -d dummy`` and wait until it accepts clients.

    Raises
    ------
    RuntimeError
        When ``jackd`` is missing, exits, or does not accept clients in time.
    """
    if JACKD is None:
        raise RuntimeError("jackd is not installed")
    log = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115
    proc = subprocess.Popen(
        [JACKD, "--no-realtime", "-n", name, "-d", "dummy", "-r", str(rate), "-p", str(period)],
        env=jack_env(name),
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=log,
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            why = ""
            if log_path is not None and Path(log_path).exists():
                lines = Path(log_path).read_text(errors="replace").strip().splitlines()
                why = ": " + " | ".join(lines[-2:]) if lines else ""
            raise RuntimeError(f"jackd exited with code {proc.returncode}{why}")
        if server_running(name):
            return proc
        time.sleep(0.05)
    stop_jackd(proc)
    raise RuntimeError(f"jackd server '{name}' did not accept clients within {timeout:g} s")


def stop_jackd(proc: subprocess.Popen, *, kill: bool = False, timeout: float = 5.0) -> None:
    """Stop a server started by :func:`start_jackd` (SIGKILL at once with ``kill``).

    A killed server leaves its entry in JACK's shared registry
    (``/dev/shm/jack-shm-registry``, 8 entries for the whole machine); only a
    server started later under the same name reclaims it. After a kill, start
    the same name again, or call :func:`reclaim_jackd`.
    """
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout)


def reclaim_jackd(name: str) -> None:
    """Free the registry entry a killed server ``name`` left: start it again and stop it cleanly."""
    with contextlib.suppress(RuntimeError):
        stop_jackd(start_jackd(name, timeout=5.0))


def unique_server_name(base: str) -> str:
    """``base`` if no server of that name runs, else ``base-PID``.

    A fixed name is preferred: a server of that name killed by a crashed test
    run then gets its registry entry back on the next run.
    """
    return base if not server_running(base) else f"{base}-{os.getpid()}"


def ports(pattern: str = "", server: str | None = None) -> list[str]:
    """Port names matching the regular expression ``pattern`` (``re.search``)."""
    out = _run(["jack_lsp"], server)
    if out.returncode != 0:
        raise RuntimeError(f"jack_lsp failed: {out.stderr.strip()}")
    rx = re.compile(pattern)
    return [p.strip() for p in out.stdout.splitlines() if p.strip() and rx.search(p.strip())]


def connections(server: str | None = None) -> dict[str, list[str]]:
    """Each port and the ports it is connected to (``jack_lsp -c``)."""
    out = _run(["jack_lsp", "-c"], server)
    result: dict[str, list[str]] = {}
    current = None
    for line in out.stdout.splitlines():
        if not line.strip():
            continue
        if line[0].isspace():
            if current is not None:
                result[current].append(line.strip())
        else:
            current = line.strip()
            result[current] = []
    return result


def connect(src: str, dst: str, server: str | None = None) -> None:
    """Connect output port ``src`` to input port ``dst``."""
    out = _run(["jack_connect", src, dst], server)
    if out.returncode != 0 and "already" not in (out.stderr + out.stdout):
        raise RuntimeError(f"jack_connect {src} {dst} failed: {(out.stderr or out.stdout).strip()}")


def disconnect(src: str, dst: str, server: str | None = None) -> None:
    """Disconnect ``src`` from ``dst`` (no error if they were not connected)."""
    _run(["jack_disconnect", src, dst], server)


def wait_for_ports(
    pattern: str, count: int = 1, server: str | None = None, timeout: float = 5.0
) -> list[str]:
    """Wait until at least ``count`` ports match ``pattern``; return them, sorted."""
    deadline = time.monotonic() + timeout
    found: list[str] = []
    while time.monotonic() < deadline:
        found = sorted(ports(pattern, server))
        if len(found) >= count:
            return found
        time.sleep(0.05)
    raise RuntimeError(
        f"no {count} JACK port(s) matching {pattern!r} within {timeout:g} s: {found}"
    )


def click_train(
    sr: int,
    *,
    bpm: float = 120.0,
    burst_s: float = 0.005,
    freq: float = 1000.0,
    amplitude: float = 0.8,
) -> np.ndarray:
    """One beat period of a click train: a sine burst then exact zeros.

    Returns
    -------
    np.ndarray, shape (round(sr * 60 / bpm),), float32
        Loop it to get the train. The burst's first sample is non-zero
        (phase 30 degrees), so its onset can be found exactly.
    """
    period = round(sr * 60.0 / bpm)
    n = round(sr * burst_s)
    t = np.arange(n) / sr
    out = np.zeros(period, dtype=np.float32)
    out[:n] = (amplitude * np.sin(2 * np.pi * freq * t + np.pi / 6)).astype(np.float32)
    return out


_PLAYER = textwrap.dedent(
    """
    import sys, numpy as np, jack
    path, name, rate, loop = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] == "1"
    sig = np.load(path).astype(np.float32)
    if sig.ndim == 1:
        sig = sig[:, None]
    client = jack.Client(name, no_start_server=True)
    if client.samplerate != rate:
        print(f"error: server runs at {client.samplerate} Hz, signal is {rate} Hz", flush=True)
        sys.exit(2)
    outs = [client.outports.register(f"out_{i + 1}") for i in range(sig.shape[1])]
    n = sig.shape[0]
    state = {"pos": 0}

    @client.set_process_callback
    def process(frames):
        pos = state["pos"]
        idx = np.arange(pos, pos + frames)
        if loop:
            block = sig[idx % n]
        else:
            block = np.zeros((frames, sig.shape[1]), np.float32)
            ok = idx < n
            block[ok] = sig[idx[ok]]
        for i, port in enumerate(outs):
            port.get_array()[:] = block[:, i]
        state["pos"] = pos + frames

    client.activate()
    print("ready " + " ".join(p.name for p in outs), flush=True)
    sys.stdin.read()
    client.deactivate()
    client.close()
    """
)

_RECORDER = textwrap.dedent(
    """
    import sys, numpy as np, jack
    path, name, channels, seconds = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    client = jack.Client(name, no_start_server=True)
    ins = [client.inports.register(f"in_{i + 1}") for i in range(channels)]
    buf = np.zeros((int(seconds * client.samplerate), channels), np.float32)
    state = {"pos": 0}

    @client.set_process_callback
    def process(frames):
        pos = state["pos"]
        n = min(frames, buf.shape[0] - pos)
        if n > 0:
            for i, port in enumerate(ins):
                buf[pos:pos + n, i] = port.get_array()[:n]
            state["pos"] = pos + n

    client.activate()
    print("ready " + " ".join(p.name for p in ins), flush=True)
    sys.stdin.read()
    client.deactivate()
    np.save(path, buf[: state["pos"]])
    client.close()
    """
)


@dataclass
class JackClientProcess:
    """A helper JACK client running in its own process."""

    proc: subprocess.Popen
    port_names: list[str]
    connected: list[tuple[str, str]] = field(default_factory=list)
    result_path: Path | None = None
    result: np.ndarray | None = None
    server: str | None = None

    def connect_sources(self, pattern: str, timeout: float = 10.0) -> None:
        """Connect the output ports matching ``pattern`` (sorted) to this client's inputs."""
        sources = wait_for_ports(pattern, 1, self.server, timeout)
        for src, dst in zip(sources, self.port_names, strict=False):
            connect(src, dst, self.server)
            self.connected.append((src, dst))


def _spawn(
    script: str, args: Sequence[str], server: str | None, timeout: float
) -> tuple[subprocess.Popen, list[str]]:
    proc = subprocess.Popen(
        [sys.executable, "-c", script, *args],
        env=jack_env(server),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    line = ""
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if line.startswith("ready"):
            return proc, line.split()[1:]
        if not line and proc.poll() is not None:
            break
    proc.kill()
    _, err = proc.communicate(timeout=5)
    raise RuntimeError(f"JACK helper client did not start: {line.strip()} {err.strip()[-500:]}")


def _finish(proc: subprocess.Popen, timeout: float = 10.0) -> None:
    try:
        proc.communicate(input="", timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate(timeout=5)


@contextlib.contextmanager
def play_through_jack(
    sig: np.ndarray,
    sr: int,
    target_port_pattern: str = PORTAUDIO_IN,
    *,
    client_name: str = "clicks",
    server: str | None = None,
    loop: bool = True,
    exclusive: bool = True,
    timeout: float = 10.0,
) -> Iterator[JackClientProcess]:
    """Play ``sig`` from a separate JACK client into the ports matching a pattern.

    Parameters
    ----------
    sig : np.ndarray, shape (n,) or (n, channels), float32
        The signal; each column feeds one output port.
    sr : int
        Its sample rate in Hz (must be the server's).
    target_port_pattern : str
        Regular expression for the input ports to feed (sorted; column i feeds
        the i-th match, a mono signal feeds them all).
    client_name : str
        The player's JACK client name.
    server : str, optional
        JACK server name (default: ``JACK_DEFAULT_SERVER``).
    loop : bool
        Loop the signal (else silence after it).
    exclusive : bool
        Disconnect every other source from the targets (e.g. ``system:capture_*``
        that PortAudio connects by itself), so only this signal arrives.
    timeout : float
        Seconds to wait for the player and the target ports.

    Yields
    ------
    JackClientProcess
        The player; ``port_names`` are its output ports.
    """
    targets = wait_for_ports(target_port_pattern, 1, server, timeout)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "signal.npy"
        np.save(path, np.asarray(sig, dtype=np.float32))
        proc, outs = _spawn(
            _PLAYER, [str(path), client_name, str(sr), "1" if loop else "0"], server, timeout
        )
        player = JackClientProcess(proc, outs)
        try:
            if exclusive:
                conns = connections(server)
                for dst in targets:
                    for src in conns.get(dst, []):
                        disconnect(src, dst, server)
            for i, dst in enumerate(targets):
                src = outs[i % len(outs)] if len(outs) > 1 else outs[0]
                connect(src, dst, server)
                player.connected.append((src, dst))
            yield player
        finally:
            _finish(proc)


@contextlib.contextmanager
def record_from_jack(
    source_port_pattern: str | None = None,
    *,
    channels: int = 2,
    max_seconds: float = 10.0,
    client_name: str = "recorder",
    server: str | None = None,
    timeout: float = 10.0,
) -> Iterator[JackClientProcess]:
    """Record what JACK output ports send, in a separate JACK client.

    The recorder starts (and records silence) at once; it is connected to the
    ports matching ``source_port_pattern`` (the i-th, sorted, to input i), or,
    without a pattern, by ``rec.connect_sources(pattern)`` later, e.g. once the
    ports exist. The recording is in ``.result`` (shape (n, channels), float32)
    after the ``with`` block ends.
    """
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "recording.npy"
        proc, ins = _spawn(
            _RECORDER, [str(path), client_name, str(channels), str(max_seconds)], server, timeout
        )
        rec = JackClientProcess(proc, ins, result_path=path, server=server)
        try:
            if source_port_pattern is not None:
                rec.connect_sources(source_port_pattern, timeout)
            yield rec
        finally:
            _finish(proc)
            if path.exists():
                rec.result = np.load(path)


class ServerWatch:
    """Watch a JACK server keep real time: count its xruns and the frames it processes.

    A dummy server on a starved CPU runs slow and drops cycles, and then no
    real-time check can hold (a real sound card would glitch too). Tests use
    :meth:`healthy` to tell that apart from a bug in the code under test::

        with ServerWatch() as watch:
            ...  # the real-time part of the test
        ok, why = watch.healthy()
        if not ok:
            pytest.skip(why)

    The watch's own client joins the graph first, and the xruns that joining
    may cause are not counted.
    """

    def __init__(self, server: str | None = None, settle_s: float = 0.1) -> None:
        self.server = server
        self.settle_s = settle_s
        self.xruns = 0
        self.rate: float | None = None
        self._client = None
        self._t0 = 0.0
        self._f0 = 0

    def __enter__(self) -> ServerWatch:
        import jack

        old = os.environ.get("JACK_DEFAULT_SERVER")
        if self.server is not None:
            os.environ["JACK_DEFAULT_SERVER"] = self.server
        try:
            client = jack.Client("watch", no_start_server=True)
        finally:
            if self.server is not None:
                if old is None:
                    os.environ.pop("JACK_DEFAULT_SERVER", None)
                else:
                    os.environ["JACK_DEFAULT_SERVER"] = old

        def on_xrun(delay: float) -> None:
            self.xruns += 1

        def on_process(frames: int) -> None:
            self._frames += frames

        self._frames = 0
        client.set_xrun_callback(on_xrun)
        client.set_process_callback(on_process)
        client.activate()
        time.sleep(self.settle_s)
        self._client = client
        self.xruns = 0
        self._t0, self._f0 = time.monotonic(), self._frames
        return self

    def __exit__(self, *exc: object) -> None:
        client = self._client
        if client is None:
            return
        dt = time.monotonic() - self._t0
        frames = self._frames - self._f0
        self.rate = frames / dt if dt > 0 else None
        self.samplerate = client.samplerate
        client.deactivate()
        client.close()
        self._client = None

    def healthy(self, tolerance: float = 0.05) -> tuple[bool, str]:
        """Whether the server kept real time (no xruns, rate within ``tolerance``)."""
        if self.xruns:
            return False, f"the JACK server reported {self.xruns} xrun(s): machine too busy"
        if self.rate is None or abs(self.rate / self.samplerate - 1) > tolerance:
            return False, (
                f"the dummy JACK server ran at {self.rate} frames/s for {self.samplerate} Hz: "
                "machine too busy for a real-time check"
            )
        return True, ""


def burst_onsets(x: np.ndarray, *, quiet: int = 100) -> np.ndarray:
    """Indices where a non-zero burst starts after at least ``quiet`` exact zeros."""
    x = np.asarray(x)
    nz = x != 0
    starts = np.flatnonzero(nz[1:] & ~nz[:-1]) + 1
    keep = [s for s in starts if s >= quiet and not nz[s - quiet : s].any()]
    return np.asarray(keep, dtype=np.int64)
