"""Generator speed in ``ganterp bench``: batch-1 calls at several sizes, as the show makes them."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import torch

from ganterp.live.bench.measure import stats
from ganterp.models.registry import make_generator


def bench_generator(
    name: str, sizes: list[int], threads: int, calls: int = 60
) -> list[dict[str, Any]]:
    """Time batch-1 generator calls at several sizes.

    Parameters
    ----------
    name : str
        Generator name (as ``--generator`` takes it).
    sizes : list of int
        Picture sizes, pixels (square).
    threads : int
        CPU threads the generator may use.
    calls : int
        Timed calls per size, after one untimed first call.

    Returns
    -------
    list of dict
        One row per size: ``generator``, ``resolution`` (px), ``batch``, ``threads``,
        ``build_s`` (seconds), ``first_call_ms``, ``ms_per_frame`` (statistics, ms)
        and ``frames_per_s`` (from the median).
    """
    rows = []
    for size in sizes:
        t0 = time.perf_counter()
        gen = make_generator(name, resolution=size, threads=threads)
        build_s = time.perf_counter() - t0
        rng = np.random.default_rng(0)
        z = torch.from_numpy(rng.standard_normal((1, gen.z_dim)).astype(np.float32) * 0.4)
        y = torch.zeros(1, gen.num_classes)
        y[0, 1] = 1.0
        t0 = time.perf_counter()
        with torch.inference_mode():
            gen(z, y, 0.4)
        first_ms = 1000 * (time.perf_counter() - t0)
        times = []
        with torch.inference_mode():
            for i in range(calls):
                z[0, i % gen.z_dim] += 0.01
                t0 = time.perf_counter()
                gen(z, y, 0.4)
                times.append(1000 * (time.perf_counter() - t0))
        s = stats(times)
        rows.append(
            {
                "generator": name,
                "resolution": size,
                "batch": 1,
                "threads": threads,
                "build_s": build_s,
                "first_call_ms": first_ms,
                "ms_per_frame": s,
                "frames_per_s": 1000.0 / s["median"],
            }
        )
    return rows
