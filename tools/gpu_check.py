"""The GPU figures in one run, on a machine with an NVIDIA GPU and CUDA PyTorch only.

Runs from the checkout with nothing installed but torch and numpy (no package
registry needed): it makes the checkout importable as ``ganterp`` through a
temporary folder of links, runs the CUDA tests when pytest is there, times
BigGAN-deep-128/256/512 at batch 1 (eager fp32, eager fp16, torch.compile fp16
captured in a CUDA graph) with random weights of the real layout unless
trained ones are installed, and prints the table the README needs::

    python tools/gpu_check.py                      # everything, on cuda
    python tools/gpu_check.py --models biggan-deep-512 --paths eager:fp16
    python tools/gpu_check.py --device cpu --models biggan-deep-128 --paths eager:fp32

A show's displayed fps and onset-to-photon latency need the show's compiled
dependencies (aubio, pygame, PyAV, soxr); where they import, ``ganterp bench
--only show,latency --generator biggan-deep-512`` measures them, and the
script says which it could not run.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
#: Show dependencies with compiled parts: the show rows need all of them.
SHOW_MODULES = ("aubio", "pygame", "av", "soxr", "sounddevice", "moderngl")


def importable_checkout(root: Path, into: Path) -> Path:
    """A folder that makes the checkout at ``root`` importable as ``ganterp``.

    Parameters
    ----------
    root : Path
        The repository's root (holding ``live/``, ``models/``, ``configs/``).
    into : Path
        An empty folder to make it in.

    Returns
    -------
    Path
        The folder to put first on ``sys.path`` (``into`` itself).
    """
    package = into / "ganterp"
    package.mkdir(parents=True)
    for name in ("live", "models", "configs"):
        (package / name).symlink_to(root / name, target_is_directory=True)
    return into


#: Modules that pytorch-pretrained-biggan imports when it loads but that nothing here
#: calls (downloads, its own noise sampler), with the names it takes from them.
STAND_INS = {
    "scipy": "",
    "scipy.stats": "truncnorm",
    "boto3": "",
    "botocore": "",
    "botocore.exceptions": "ClientError",
    "requests": "",
    "tqdm": "tqdm",
}


def add_stand_ins(into: Path) -> list[str]:
    """Write stand-ins for the :data:`STAND_INS` that are not installed.

    Each is a module whose names raise when used, so a path that did need one
    fails loudly instead of quietly doing something else.

    Parameters
    ----------
    into : Path
        A folder on ``sys.path`` (and on the tests' ``PYTHONPATH``).

    Returns
    -------
    list of str
        The modules stood in for.
    """
    tops = {module.split(".")[0] for module in STAND_INS}
    missing = {top for top in tops if importlib.util.find_spec(top) is None}
    made = []
    for module, names in STAND_INS.items():
        parts = module.split(".")
        top = parts[0]
        if top not in missing:
            continue
        folder = into.joinpath(*parts)
        folder.mkdir(parents=True, exist_ok=True)
        body = [f'"""Stand-in for {module}: not installed, and not used by the GPU check."""']
        for name in filter(None, names.split(",")):
            body.append(
                f"class {name}(Exception):\n"
                f"    def __init__(self, *a, **k):\n"
                f"        raise RuntimeError('{module}.{name} is a stand-in: install {top}')"
            )
        (folder / "__init__.py").write_text("\n\n".join(body) + "\n")
        made.append(module)
    return made


def run_cuda_tests(path: Path, timeout_s: float) -> dict[str, Any]:
    """``pytest -m cuda`` on the model tests, in a child process; its outcome."""
    if importlib.util.find_spec("pytest") is None:
        return {"ran": False, "why": "pytest is not installed"}
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(path), str(ROOT / "tests")])}
    t0 = time.perf_counter()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-m",
            "cuda",
            "-p",
            "no:cacheprovider",
            str(ROOT / "tests" / "models" / "test_biggan_cuda.py"),
        ],
        cwd=str(ROOT),
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout_s,
    )
    tail = (done.stdout + done.stderr).strip().splitlines()
    return {
        "ran": True,
        "returncode": done.returncode,
        "summary": tail[-1] if tail else "",
        "seconds": time.perf_counter() - t0,
    }


def parse_paths(text: str) -> list[tuple[str, str]]:
    """``"eager:fp32,compile:fp16"`` as ``[("eager", "fp32"), ("compile", "fp16")]``.

    Raises
    ------
    ValueError
        An entry that is not ``BACKEND:PRECISION``, or none at all.
    """
    paths = []
    for entry in filter(None, (e.strip() for e in text.split(","))):
        backend, sep, precision = entry.partition(":")
        if not sep or not backend or not precision:
            raise ValueError(f"--paths: {entry!r} is not BACKEND:PRECISION (e.g. compile:fp16)")
        paths.append((backend, precision))
    if not paths:
        raise ValueError("--paths: give at least one BACKEND:PRECISION (e.g. eager:fp16)")
    return paths


def run_models(
    args: argparse.Namespace, paths: list[tuple[str, str]], workdir: Path
) -> list[dict[str, Any]]:
    """Each model's plain-eager reference and one row per (backend, precision) in ``paths``.

    The rows are made as ``ganterp bench`` makes them (built as the show builds
    them, PSNR against fp32 eager).
    """
    from ganterp.live.bench.biggan import bench_biggan, bench_biggan_rows

    weights = args.weights
    if not weights and importlib.util.find_spec("platformdirs") is None:
        # The user's model cache cannot be found without it: random weights, said so.
        print("platformdirs is not installed: random weights", file=sys.stderr)
        weights = "random"
    results = []
    for name in args.models.split(","):
        common = {"batches": [1], "device": args.device, "threads": args.threads}
        first_backend, first_precision = paths[0]
        result = bench_biggan(
            name,
            weights=weights,
            backends=[first_backend],
            precisions=[first_precision],
            calls=args.calls,
            workdir=workdir,
            **common,
        )
        for backend, precision in paths[1:]:
            result["rows"] += bench_biggan_rows(
                name,
                Path(result["weights_dir"]),
                backends=[backend],
                precisions=[precision],
                calls=args.calls,
                **common,
            )
        results.append(result)
        print(f"{name}: done", file=sys.stderr, flush=True)
    return results


def run_show_rows(path: Path, args: argparse.Namespace, timeout_s: float) -> dict[str, Any]:
    """A show and the onset latency on one generator through ``ganterp bench``.

    Parameters
    ----------
    path : Path
        The folder that makes the checkout importable (:func:`importable_checkout`).
    args : argparse.Namespace
        The script's options: ``show_model`` (the generator), ``show_seconds`` (the
        show's length, seconds; the latency run is three quarters of it) and ``weights``.
    timeout_s : float
        How long the bench may take, seconds.

    Returns
    -------
    dict
        ``ran`` and, when it ran, ``show`` (displayed fps, keyframes/s) and
        ``latency`` (onset to photon, ms) as the bench reports them, or ``why`` not.
    """
    missing = [m for m in SHOW_MODULES if importlib.util.find_spec(m) is None]
    if missing:
        return {"ran": False, "why": f"{', '.join(missing)} not installed"}
    out = path / "show.json"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(path), os.environ.get("PYTHONPATH", "")]),
    }
    command = [
        sys.executable,
        "-m",
        "ganterp.live",
        "bench",
        "--only",
        "show,latency",
        "--generator",
        args.show_model,
        "--weights",
        args.weights or "",
        "--show-seconds",
        f"{args.show_seconds:g}",
        "--latency-seconds",
        f"{0.75 * args.show_seconds:g}",
        "--json",
        str(out),
    ]
    try:
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        return {"ran": False, "why": f"the bench took over {timeout_s:.0f} s"}
    if done.returncode != 0 or not out.exists():
        tail = (done.stdout + done.stderr).strip().splitlines()
        return {"ran": False, "why": tail[-1] if tail else f"exit status {done.returncode}"}
    results = json.loads(out.read_text())
    return {"ran": True, "show": results.get("show"), "latency": results.get("latency")}


def show_line(show_rows: dict[str, Any]) -> str:
    """One line on the show's figures, or why there are none."""
    if not show_rows["ran"]:
        return f"show fps and onset-to-photon latency: not measured ({show_rows['why']})"
    show, latency = show_rows["show"], show_rows["latency"]["latency_ms"]
    return (
        f"show on {show['generator']}: {show['display_fps']:.1f} fps displayed, "
        f"{show['keyframes_per_s']:.1f} keyframes/s; onset to photon median "
        f"{latency['median']:.0f} ms (p95 {latency['p95']:.0f} ms)"
    )


def table(results: list[dict[str, Any]]) -> str:
    """The README's table (Markdown) of every model's rows.

    Parameters
    ----------
    results : list of dict
        As :func:`ganterp.live.bench.biggan.bench_biggan` returns them.

    Returns
    -------
    str
        One row per model and path: keyframes/s and ms at batch 1 (median, p95),
        PSNR against fp32 (dB), first call (ms) and build (s).
    """
    lines = [
        "| model | device | path | keyframes/s | ms median (p95) | PSNR vs fp32 | first call / build |",
        "|---|---|---|---|---|---|---|",
    ]
    for result in results:
        plain = result["plain_eager"]
        rows = [("plain eager fp32 (the package's model)", plain, None)]
        rows += [(f"{r['backend']} {r['precision']}", r, r["psnr_db"]) for r in result["rows"]]
        for label, row, psnr in rows:
            ms = row["ms_per_frame"]
            psnr_text = "reference" if psnr is None else f"{psnr:.1f} dB"
            build = row.get("build_s")
            build_text = f"{build:.1f} s" if build is not None else "-"
            lines.append(
                f"| {result['generator']} ({result['weights']} weights) | {result['device']} "
                f"| {label} | {1000.0 / ms['median']:.1f} | {ms['median']:.2f} ({ms['p95']:.2f}) "
                f"| {psnr_text} | {row['first_call_ms']:.0f} ms / {build_text} |"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the checks; print the table and where the JSON went. Returns the exit status."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--models", default="biggan-deep-128,biggan-deep-256,biggan-deep-512")
    p.add_argument(
        "--paths",
        default="eager:fp32,eager:fp16,compile:fp16",
        help="BACKEND:PRECISION rows after the plain eager one, comma-separated",
    )
    p.add_argument("--device", default="cuda", help="cuda, cpu or auto")
    p.add_argument(
        "--weights",
        default="",
        help="a model directory, 'random', or empty: trained ones if installed, else random",
    )
    p.add_argument("--calls", type=int, default=30, help="timed calls per row")
    p.add_argument("--threads", type=int, default=1, help="CPU threads")
    p.add_argument("--no-tests", action="store_true", help="skip the CUDA tests")
    p.add_argument("--test-timeout", type=float, default=180.0, help="seconds for the tests")
    p.add_argument("--no-show", action="store_true", help="skip the show and latency rows")
    p.add_argument("--show-model", default="biggan-deep-512", help="the show rows' generator")
    p.add_argument("--show-seconds", type=float, default=20.0, help="the show run's length (s)")
    p.add_argument("--show-timeout", type=float, default=240.0, help="seconds for the show rows")
    p.add_argument("--json", type=Path, default=Path("gpu-check.json"), help="where to save")
    args = p.parse_args(argv)
    try:
        paths = parse_paths(args.paths)
    except ValueError as exc:
        p.error(str(exc))

    import torch

    if args.device == "cuda" and not torch.cuda.is_available():
        print("gpu-check: no CUDA GPU visible to torch (use --device cpu to try it here)")
        return 2
    with tempfile.TemporaryDirectory(prefix="ganterp-gpu-check-") as tmp:
        path = importable_checkout(ROOT, Path(tmp) / "path")
        sys.path.insert(0, str(path))
        report: dict[str, Any] = {"torch": torch.__version__, "stand_ins": add_stand_ins(path)}
        if torch.cuda.is_available():
            report["gpu"] = torch.cuda.get_device_name(0)
        report["tests"] = (
            {"ran": False, "why": "--no-tests"}
            if args.no_tests
            else run_cuda_tests(path, args.test_timeout)
        )
        work = Path(tmp) / "weights"
        work.mkdir()
        from ganterp.models.errors import GeneratorError

        try:
            report["models"] = run_models(args, paths, work)
        except GeneratorError as exc:  # an unknown model or precision, missing weights
            print(f"gpu-check: {exc}")
            return 2
        report["show_rows"] = (
            {"ran": False, "why": "--no-show"}
            if args.no_show
            else run_show_rows(path, args, args.show_timeout)
        )
    args.json.write_text(json.dumps(report, indent=2, default=str))
    if report["stand_ins"]:
        print("stand-ins (not installed, never called):", ", ".join(report["stand_ins"]))
    tests = report["tests"]
    print("CUDA tests:", tests.get("summary") if tests["ran"] else f"not run ({tests['why']})")
    print(table(report["models"]))
    print(show_line(report["show_rows"]))
    print(f"saved {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
