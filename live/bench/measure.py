"""The bench's measuring toolkit: summary statistics, memory and CPU time."""

from __future__ import annotations

import os
import resource
import sys
from collections.abc import Sequence

import numpy as np


def stats(values: Sequence[float]) -> dict[str, float]:
    """Median and 95th percentile of a set of measurements.

    Parameters
    ----------
    values : sequence of float
        The individual measurements, in any unit (the result keeps it).

    Returns
    -------
    dict
        ``median`` and ``p95`` (numpy's linearly interpolated percentile), in the
        unit of ``values``, and ``n``, how many there were. For no values the
        median and percentile are NaN and ``n`` is 0.
    """
    if not values:
        return {"median": float("nan"), "p95": float("nan"), "n": 0}
    return {
        "median": float(np.median(values)),
        "p95": float(np.percentile(values, 95)),
        "n": len(values),
    }


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far.

    Returns
    -------
    float
        MiB (``getrusage``'s maximum resident set size: KiB on Linux, bytes on macOS).
    """
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kb / 1024.0 if sys.platform != "darwin" else kb / 2**20


def rss_mb() -> float:
    """Resident memory of this process now.

    Returns
    -------
    float
        MiB, from ``/proc/self/status`` (``VmRSS``); NaN where that line is missing.
    """
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def _cpu_s(stat_path: str) -> tuple[str, float]:
    """The name and CPU time (user + system, seconds) in one ``/proc/.../stat`` file."""
    with open(stat_path, encoding="ascii", errors="replace") as f:
        text = f.read()
    name = text[text.index("(") + 1 : text.rindex(")")]
    fields = text[text.rindex(")") + 2 :].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return name, (int(fields[11]) + int(fields[12])) / ticks  # utime, stime


def thread_cpu_s() -> dict[int, tuple[str, float]]:
    """CPU time of each of this process's threads so far (Linux).

    Returns
    -------
    dict
        ``{thread id: (thread name, seconds)}``; empty where ``/proc`` is missing.
    """
    out: dict[int, tuple[str, float]] = {}
    try:
        tids = os.listdir("/proc/self/task")
    except OSError:
        return out
    for tid in tids:
        try:
            out[int(tid)] = _cpu_s(f"/proc/self/task/{tid}/stat")
        except (OSError, ValueError, IndexError):
            continue  # the thread ended meanwhile
    return out


def process_cpu_s(pid: int) -> float:
    """CPU time another process has used so far, seconds (NaN when it cannot be read)."""
    try:
        return _cpu_s(f"/proc/{pid}/stat")[1]
    except (OSError, ValueError, IndexError):
        return float("nan")
