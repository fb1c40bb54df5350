"""Shared fixtures.

``jack_server``: a private JACK server (``jackd --no-realtime -d dummy -r 48000
-p 256``) for the whole session, under its own name (``ganterp-test``, or
``ganterp-test-PID`` while another run uses that) exported as
``JACK_DEFAULT_SERVER``, so that the tests never touch another jackd running on
the machine. PortAudio, which connects to JACK when it is initialised, is
re-initialised after the server is up (and again after it is gone), so
``sounddevice`` sees its ``system`` device whenever it was imported.

Never kill this server while PortAudio is connected to it in the test process:
PortAudio cannot recover from that in-process (see ``live/audio/portaudio.py``).
Tests that kill a server run in a subprocess with a server of their own.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import jackutil
import pytest

# The tests see the project as it is installed, ``ganterp.…``: the repository's
# folders must not be importable by their bare names (``python -m pytest`` puts
# the working folder on the path), or a module that asked for ``live`` would
# pass here and fail for a user.
_ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _ROOT]


@dataclass(frozen=True)
class JackServer:
    """The session's JACK server."""

    name: str
    rate: int
    period: int
    log_path: Path


def _reinit_portaudio() -> None:
    """Make PortAudio rescan (connect to the current JACK server), if it is loaded."""
    sd = sys.modules.get("sounddevice")
    if sd is None:
        return
    if getattr(sd, "_initialized", 0) == 1:
        sd._terminate()
        sd._initialize()


@pytest.fixture(scope="session")
def jack_server() -> Iterator[JackServer]:
    """A private ``jackd -d dummy`` server for the session (skips if jackd is missing)."""
    if jackutil.JACKD is None:
        pytest.skip("jackd is not installed (apt install jackd2)")
    name = jackutil.unique_server_name("ganterp-test")
    log_path = Path(tempfile.gettempdir()) / f"{name}-{os.getpid()}.log"
    rate, period = 48000, 256
    try:
        proc = jackutil.start_jackd(name, rate=rate, period=period, log_path=log_path)
    except RuntimeError as exc:
        log_path.unlink(missing_ok=True)
        pytest.skip(f"cannot start jackd: {exc}")
    old = os.environ.get("JACK_DEFAULT_SERVER")
    os.environ["JACK_DEFAULT_SERVER"] = name
    import sounddevice  # noqa: F401 - load PortAudio now, against this server

    _reinit_portaudio()
    try:
        yield JackServer(name=name, rate=rate, period=period, log_path=log_path)
    finally:
        # Disconnect PortAudio from the server before it goes (see the module notes).
        sd = sys.modules.get("sounddevice")
        if sd is not None and getattr(sd, "_initialized", 0) == 1:
            sd._terminate()
        jackutil.stop_jackd(proc)
        if old is None:
            os.environ.pop("JACK_DEFAULT_SERVER", None)
        else:
            os.environ["JACK_DEFAULT_SERVER"] = old
        if sd is not None and getattr(sd, "_initialized", 0) == 0:
            sd._initialize()
        log_path.unlink(missing_ok=True)
