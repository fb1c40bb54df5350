"""BigGAN-deep in ``ganterp bench``: every backend × precision × batch, against plain eager.

Each row builds the generator exactly as the show would (strict load, baked
statistics, the backend), then times calls on fixed inputs. The reference row is
the package's own model, eager fp32 at batch 1, spectral norm and all: "plain
eager". Accuracy is PSNR against fp32 eager on the same inputs.

Where no trained weights are on the machine, ``--weights random`` times a model
with the real layout and width and random weights: the same computation, so the
same speed, but pictures (and PSNR figures) that mean little. The output says
which it used.
"""

from __future__ import annotations

import gc
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

from ganterp.live.bench.measure import peak_rss_mb, stats
from ganterp.models.biggan.accuracy import probe_inputs
from ganterp.models.biggan.catalog import model_spec
from ganterp.models.biggan.generator import build_biggan, find_model_dir, pick_device
from ganterp.models.biggan.loading import load_biggan
from ganterp.models.biggan.synthetic import tiny_config, write_tiny_model
from ganterp.models.errors import WeightsMissingError

_TRUNCATION = 0.4


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def resolve_bench_weights(name: str, weights: str, workdir: Path) -> tuple[Path, str]:
    """Where the bench's weights come from.

    Parameters
    ----------
    name : str
        Model name.
    weights : str
        A directory, ``"random"``, or empty for the user cache (falling back to
        random weights with a note when the cache has none).
    workdir : Path
        Where random weights are written.

    Returns
    -------
    Path, str
        The model directory, and ``"trained"`` or ``"random"``.
    """
    spec = model_spec(name)
    if weights and weights != "random":
        return find_model_dir(spec, Path(weights)), "trained"
    if not weights:
        try:
            return find_model_dir(spec), "trained"
        except WeightsMissingError:
            pass
    directory = workdir / f"{name}-random"
    if not directory.is_dir():
        write_tiny_model(directory, config=tiny_config(spec.resolution, channel_width=128))
    return directory, "random"


def _time_calls(
    fn: Any, z: torch.Tensor, y: torch.Tensor, device: torch.device, calls: int
) -> tuple[float, list[float]]:
    t0 = time.perf_counter()
    with torch.inference_mode():
        fn(z, y)
        _sync(device)
        first_ms = (time.perf_counter() - t0) * 1000.0
        times = []
        for i in range(calls):
            z[:, i % z.shape[1]] += 0.01  # new inputs each call, as in a show
            t0 = time.perf_counter()
            fn(z, y)
            _sync(device)
            times.append((time.perf_counter() - t0) * 1000.0)
    return first_ms, times


def bench_plain_eager(
    directory: Path, *, device: torch.device, threads: int, calls: int
) -> dict[str, Any]:
    """The package's model as it comes: eager fp32, batch 1, spectral norm in every call.

    Parameters
    ----------
    directory : Path
        Model directory.
    device : torch.device
        Where it runs.
    threads : int
        CPU threads torch may use (set for the whole process).
    calls : int
        Timed calls, after one untimed first call.

    Returns
    -------
    dict
        ``backend``, ``precision``, ``batch``, ``build_s`` (seconds), ``first_call_ms``,
        ``ms_per_frame`` (statistics, ms), ``frames_per_s`` and ``psnr_db`` (None: it
        is the reference).
    """
    torch.set_num_threads(threads)
    t0 = time.perf_counter()
    model: Any = load_biggan(directory).to(device)
    build_s = time.perf_counter() - t0
    z, y = probe_inputs(1, model.config.z_dim, model.config.num_classes)
    z, y = z.to(device), y.to(device)
    first_ms, times = _time_calls(lambda a, b: model(a, b, _TRUNCATION), z, y, device, calls)
    s = stats(times)
    row = {
        "backend": "plain eager (the package's model)",
        "precision": "fp32",
        "batch": 1,
        "build_s": build_s,
        "first_call_ms": first_ms,
        "ms_per_frame": s,
        "frames_per_s": 1000.0 / s["median"],
        "psnr_db": None,
    }
    return row


def bench_biggan_rows(
    name: str,
    directory: Path,
    *,
    backends: list[str],
    precisions: list[str],
    batches: list[int],
    device: str,
    threads: int,
    calls: int,
) -> list[dict[str, Any]]:
    """One row per backend × precision × batch, each built as the show builds it.

    Parameters
    ----------
    name : str
        Model name.
    directory : Path
        Model directory.
    backends, precisions : list of str
        What to build, as ``--backends`` and ``--precisions`` take them.
    batches : list of int
        Batch sizes.
    device : str
        ``auto``, ``cpu`` or ``cuda``.
    threads : int
        CPU threads.
    calls : int
        Timed calls per row, after one untimed first call.

    Returns
    -------
    list of dict
        Per row: what was built and asked, ``build_s`` (seconds), ``first_call_ms``,
        ``ms_per_frame`` and ``ms_per_call`` (statistics, ms), ``frames_per_s``,
        ``psnr_db`` and ``max_abs_error`` against fp32 eager, ``peak_rss_mb`` and
        ``gpu_peak_mb`` (MiB; None off the GPU) and the build's warnings.
    """
    rows = []
    with tempfile.TemporaryDirectory(prefix="ganterp-engines-") as engines:
        for backend in backends:
            for precision in precisions:
                for batch in batches:
                    warnings: list[str] = []
                    if torch.cuda.is_available():
                        torch.cuda.reset_peak_memory_stats()
                    t0 = time.perf_counter()
                    gen = build_biggan(
                        name,
                        weights=directory,
                        device=device,
                        backend=backend,
                        precision=precision,
                        batch=batch,
                        threads=threads,
                        cache_dir=Path(engines),
                        warn=warnings.append,
                    )
                    build_s = time.perf_counter() - t0
                    z, y = probe_inputs(batch, gen.z_dim, gen.num_classes)
                    first_ms, times = _time_calls(
                        lambda a, b, g=gen: g(a, b, _TRUNCATION), z, y, gen.device, calls
                    )
                    per_frame = [t / batch for t in times]
                    s = stats(per_frame)
                    rows.append(
                        {
                            "backend": gen.backend,
                            "precision": gen.precision,
                            "asked": f"{backend} {precision}",
                            "batch": batch,
                            "build_s": build_s,
                            "first_call_ms": first_ms,
                            "ms_per_frame": s,
                            "ms_per_call": stats(times),
                            "frames_per_s": 1000.0 / s["median"],
                            "psnr_db": gen.accuracy.psnr_db if gen.accuracy else None,
                            "max_abs_error": gen.accuracy.max_abs if gen.accuracy else None,
                            "peak_rss_mb": peak_rss_mb(),
                            "gpu_peak_mb": (
                                torch.cuda.max_memory_allocated() / 2**20
                                if gen.device.type == "cuda"
                                else None
                            ),
                            "warnings": warnings,
                        }
                    )
                    del gen
                    gc.collect()
    return rows


def bench_biggan(
    name: str,
    *,
    weights: str,
    backends: list[str],
    precisions: list[str],
    batches: list[int],
    device: str,
    threads: int,
    calls: int,
    workdir: Path,
) -> dict[str, Any]:
    """The plain-eager reference and every requested combination, for one model.

    Parameters
    ----------
    name : str
        Model name.
    weights : str
        As :func:`resolve_bench_weights` takes it.
    backends, precisions, batches, device, threads, calls
        As :func:`bench_biggan_rows` takes them.
    workdir : Path
        Where random weights are written.

    Returns
    -------
    dict
        ``generator``, ``resolution`` (px), ``weights`` (``"trained"`` or ``"random"``),
        ``weights_dir``, ``device``, ``threads``, ``plain_eager`` (the reference row)
        and ``rows``.
    """
    directory, kind = resolve_bench_weights(name, weights, workdir)
    dev = pick_device(device)
    spec = model_spec(name)
    plain = bench_plain_eager(directory, device=dev, threads=threads, calls=calls)
    rows = bench_biggan_rows(
        name,
        directory,
        backends=backends,
        precisions=precisions,
        batches=batches,
        device=device,
        threads=threads,
        calls=calls,
    )
    return {
        "generator": name,
        "resolution": spec.resolution,
        "weights": kind,
        "weights_dir": str(directory),
        "device": torch.cuda.get_device_name(dev) if dev.type == "cuda" else "cpu",
        "threads": threads,
        "plain_eager": plain,
        "rows": rows,
    }
