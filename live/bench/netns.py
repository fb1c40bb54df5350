"""A private network namespace: discovery protocols (NDI, Link) measured with nothing leaving.

A command run through :func:`private_network` gets a network of its own with only
the loopback interface, up, with multicast on and a route for 224.0.0.0/4, so
that mDNS and Link's multicast discovery work between the processes inside it
and reach nothing outside. It needs ``unshare`` (util-linux) and ``ip``
(iproute2), and the right to make namespaces (root, or user namespaces).
"""

from __future__ import annotations

import functools
import json
import shutil
import subprocess
from pathlib import Path

#: The shell lines that set up the namespace's network before the command runs.
SETUP = "ip link set lo up && ip link set lo multicast on && ip route add 224.0.0.0/4 dev lo"


def private_network(argv: list[str]) -> list[str]:
    """The command line that runs ``argv`` in a private network namespace.

    Parameters
    ----------
    argv : list of str
        The program and its arguments.

    Returns
    -------
    list of str
        ``unshare -n sh -c 'SETUP && exec "$@"' sh ARGV...``.
    """
    return ["unshare", "-n", "sh", "-c", f'{SETUP} && exec "$@"', "sh", *argv]


@functools.cache
def private_network_available() -> str:
    """Why a private network namespace cannot be made here ('' when it can)."""
    for tool in ("unshare", "ip"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed"
    try:
        done = subprocess.run(private_network(["true"]), capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"unshare failed: {exc}"
    if done.returncode != 0:
        lines = (done.stderr or "unshare failed").strip().splitlines()
        return f"cannot make a network namespace: {lines[-1] if lines else done.returncode}"
    return ""


def ndi_loopback_config(directory: Path) -> Path:
    """Write an NDI configuration that finds sources on 127.0.0.1; return its folder.

    Point ``NDI_CONFIG_DIR`` at the folder: receivers then ask 127.0.0.1 for
    sources directly, with no discovery server, and senders do not multicast.

    Parameters
    ----------
    directory : Path
        Where ``ndi-config.v1.json`` is written (created if missing).
    """
    directory.mkdir(parents=True, exist_ok=True)
    config = {
        "ndi": {
            "networks": {"ips": "127.0.0.1", "discovery": ""},
            "multicast": {"send": {"enable": False}},
        }
    }
    (directory / "ndi-config.v1.json").write_text(json.dumps(config, indent=2) + "\n")
    return directory
