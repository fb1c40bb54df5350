"""tools/gpu_check.py: the GPU figures from a checkout, with only torch and numpy installed.

No GPU here: the whole script runs on the CPU, in a child process that cannot
see any installed package but torch, numpy and pytorch-pretrained-biggan (the
pure-Python wheel ``tools/gpu-check.sh --fetch`` carries), as on a GPU machine
without a registry. The CUDA rows themselves need that machine.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import textwrap
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tools" / "gpu_check.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gpu_check", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_checkout_is_importable_as_ganterp_through_links(tmp_path):
    path = _load().importable_checkout(ROOT, tmp_path / "p")
    # -S: no site-packages, so not the installed package: the links alone.
    spec = subprocess.run(
        [
            sys.executable,
            "-S",
            "-c",
            "import importlib.util as u; print(u.find_spec('ganterp.live').origin)",
        ],
        env={"PYTHONPATH": str(path)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert Path(spec.stdout.strip()).resolve() == (ROOT / "live" / "__init__.py").resolve()


def test_stand_ins_are_made_only_for_missing_modules_and_raise_when_used(tmp_path, monkeypatch):
    gpu_check = _load()
    monkeypatch.setattr(
        gpu_check,
        "STAND_INS",
        {"json": "", "ganterp_absent_mod": "", "ganterp_absent_mod.sub": "Thing"},
    )
    made = gpu_check.add_stand_ins(tmp_path)
    assert made == ["ganterp_absent_mod", "ganterp_absent_mod.sub"]
    assert not (tmp_path / "json").exists()
    monkeypatch.syspath_prepend(str(tmp_path))
    from ganterp_absent_mod.sub import Thing  # type: ignore[import-not-found]

    with pytest.raises(RuntimeError, match="stand-in"):
        Thing()
    sys.modules.pop("ganterp_absent_mod.sub", None)
    sys.modules.pop("ganterp_absent_mod", None)


def test_the_table_gives_keyframes_per_second_psnr_and_build_times():
    def row(backend: str, precision: str, median: float, psnr: float | None) -> dict:
        return {
            "backend": backend,
            "precision": precision,
            "ms_per_frame": {"median": median, "p95": median * 1.1},
            "psnr_db": psnr,
            "first_call_ms": 900.0,
            "build_s": 12.5,
        }

    result = {
        "generator": "biggan-deep-512",
        "weights": "random",
        "device": "NVIDIA H200",
        "plain_eager": row("plain eager", "fp32", 20.0, None),
        "rows": [row("compile", "fp16", 4.0, 41.23)],
    }
    lines = _load().table([result]).splitlines()
    assert len(lines) == 4
    assert (
        "| plain eager fp32 (the package's model) | 50.0 | 20.00 (22.00) | reference |" in lines[2]
    )
    assert "| compile fp16 | 250.0 | 4.00 (4.40) | 41.2 dB | 900 ms / 12.5 s |" in lines[3]


#: Run in the child: hide every installed package but torch's, numpy and
#: pytorch-pretrained-biggan, then run the script as ``python tools/gpu_check.py``.
HIDE_AND_RUN = textwrap.dedent(
    """
    import importlib.abc, importlib.machinery, importlib.util, runpy, site, sys
    SITES = tuple(site.getsitepackages())
    KEEP = {"torch", "torchgen", "numpy", "pytorch_pretrained_biggan", "typing_extensions",
            "sympy", "mpmath", "filelock", "jinja2", "markupsafe", "networkx", "fsspec",
            "yaml", "optree", "setuptools", "pkg_resources", "_distutils_hack"}

    def hidden(name):
        top = name.split(".")[0]
        if top in KEEP or top in sys.stdlib_module_names or top.startswith("__editable__"):
            return False
        spec = importlib.machinery.PathFinder.find_spec(top)
        places = [spec.origin or ""] + list(spec.submodule_search_locations or []) if spec else []
        return any(str(p).startswith(SITES) for p in places)

    class Hide(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path, target=None):
            if "." not in name and hidden(name):
                raise ModuleNotFoundError(f"No module named {name!r}")

    real_find_spec = importlib.util.find_spec
    importlib.util.find_spec = lambda n, p=None: None if hidden(n) else real_find_spec(n, p)
    sys.meta_path.insert(0, Hide())
    sys.argv = sys.argv[1:]
    runpy.run_path(sys.argv[0], run_name="__main__")
    """
)


@pytest.mark.slow
def test_it_runs_with_only_torch_and_numpy_and_prints_the_table(tmp_path):
    out = tmp_path / "gpu-check.json"
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            HIDE_AND_RUN,
            str(SCRIPT),
            "--device",
            "cpu",
            "--models",
            "biggan-deep-128",
            "--paths",
            "eager:fp32,eager:bf16",
            "--no-tests",
            "--calls",
            "2",
            "--json",
            str(out),
        ],
        cwd=str(tmp_path),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    text = done.stdout
    assert "stand-ins (not installed, never called): scipy" in text
    assert "| biggan-deep-128 (random weights) | cpu | plain eager fp32" in text
    assert "| eager fp32 |" in text
    assert "not measured (aubio" in text  # the show's compiled dependencies were hidden
    report = json.loads(out.read_text())
    (model,) = report["models"]
    assert model["generator"] == "biggan-deep-128" and model["weights"] == "random"
    assert [(r["backend"], r["precision"]) for r in model["rows"]] == [
        ("eager", "fp32"),
        ("eager", "bf16"),
    ]
    assert model["rows"][0]["frames_per_s"] > 0 and model["rows"][1]["psnr_db"] > 30
    assert report["tests"] == {"ran": False, "why": "--no-tests"}


def test_paths_are_backend_precision_pairs_and_a_bad_one_is_one_line():
    gpu_check = _load()
    assert gpu_check.parse_paths("eager:fp32, compile:fp16") == [
        ("eager", "fp32"),
        ("compile", "fp16"),
    ]
    with pytest.raises(ValueError, match="is not BACKEND:PRECISION"):
        gpu_check.parse_paths("eager,compile:fp16")
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--paths", "fp16"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2 and "'fp16' is not BACKEND:PRECISION" in done.stderr
    with pytest.raises(ValueError, match="at least one"):
        gpu_check.parse_paths(" , ")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--models", "bogus"], "gpu-check: unknown model 'bogus'"),
        (["--models", "biggan-deep-128", "--paths", "eager:fp99"], "unknown precision 'fp99'"),
    ],
)
def test_an_unknown_model_or_precision_is_one_line(tmp_path, args, message):
    done = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            "--device",
            "cpu",
            "--no-tests",
            "--no-show",
            *args,
            "--json",
            str(tmp_path / "x.json"),
        ],
        cwd=str(tmp_path),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 2, done.stderr[-2000:]
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], done.stdout
    assert "Traceback" not in done.stderr


def test_without_a_gpu_it_says_so_in_one_line(tmp_path):
    import torch

    if torch.cuda.is_available():
        pytest.skip("a CUDA GPU is here")
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--json", str(tmp_path / "x.json")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert done.stdout.strip().splitlines() == [
        "gpu-check: no CUDA GPU visible to torch (use --device cpu to try it here)"
    ]


@pytest.mark.slow
def test_the_show_rows_run_the_bench_on_the_checkout(tmp_path):
    import argparse

    gpu_check = _load()
    path = gpu_check.importable_checkout(ROOT, tmp_path / "p")
    args = argparse.Namespace(show_model="cppn", show_seconds=4.0, weights="")
    rows = gpu_check.run_show_rows(path, args, timeout_s=300)
    assert rows["ran"], rows
    assert rows["show"]["generator"].startswith("cppn") and rows["show"]["display_fps"] > 10
    assert rows["latency"]["latency_ms"]["n"] >= 1
    line = gpu_check.show_line(rows)
    assert line.startswith("show on cppn") and "onset to photon median" in line


def test_the_shell_wrapper_unpacks_the_carried_wheels_onto_the_path(tmp_path):
    import zipfile

    wheels = tmp_path / "wheels"
    wheels.mkdir()
    with zipfile.ZipFile(wheels / "probe-1.0-py3-none-any.whl", "w") as whl:
        whl.writestr("ganterp_wheel_probe.py", "FOUND = 'from the wheel'\n")
    # Stands in for python: runs the unpacking as given, and instead of the check
    # reports what it would import.
    python = tmp_path / "python"
    python.write_text(
        "#!/bin/sh\n"
        'case "$1" in *gpu_check.py) shift; exec "$REAL" -c '
        '"import ganterp_wheel_probe as p, sys; print(p.FOUND, sys.argv[1:])" "$@";; esac\n'
        'exec "$REAL" "$@"\n'
    )
    python.chmod(0o755)
    done = subprocess.run(
        [str(ROOT / "tools" / "gpu-check.sh"), "--models", "biggan-deep-256"],
        env={
            "PATH": "/usr/bin:/bin",
            "REAL": sys.executable,
            "PYTHON": str(python),
            "GPU_CHECK_WHEELS": str(wheels),
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "from the wheel ['--models', 'biggan-deep-256']"
