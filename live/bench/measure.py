"""The bench's measuring toolkit: summary statistics and this process's memory."""

from __future__ import annotations

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
