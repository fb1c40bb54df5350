"""The installed distribution: one import package, ``ganterp``, over the repository's folders."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from ganterp.live.show.build import demo_track

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
FOLDERS = {"live": "ganterp.live", "models": "ganterp.models", "configs": "ganterp.configs"}


def _setuptools() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]


def _packages_on_disk() -> set[str]:
    """Every folder that holds code (``__init__.py``) or shipped data files."""
    found = set()
    for folder, name in FOLDERS.items():
        for path in (ROOT / folder).rglob("*"):
            if not path.is_file() or "__pycache__" in path.parts or path.suffix == ".pyc":
                continue
            rel = path.parent.relative_to(ROOT / folder).parts
            found.add(".".join([name, *rel]))
    return found


def test_every_folder_with_code_is_a_listed_package() -> None:
    listed = set(_setuptools()["packages"])
    assert listed == _packages_on_disk()
    for folder in FOLDERS:
        for py in (ROOT / folder).rglob("*.py"):
            assert (py.parent / "__init__.py").exists(), f"{py.parent} has code but no __init__.py"


def test_the_folders_are_mapped_under_ganterp() -> None:
    assert _setuptools()["package-dir"] == {name: folder for folder, name in FOLDERS.items()}


def test_the_editable_install_imports_by_the_installed_name_from_anywhere(tmp_path) -> None:
    code = (
        "import ganterp.live.settings.schema as s, ganterp.models.cppn as c, importlib.resources as r;"
        "print(s.Config().display.fps, c.CppnGenerator.__name__,"
        " (r.files('ganterp.configs') / 'default.toml').is_file(),"
        " (r.files('ganterp.models') / 'data').is_dir())"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    fps, cls, toml, data = proc.stdout.split()
    assert float(fps) > 0 and cls == "CppnGenerator" and toml == data == "True"


@pytest.mark.slow
def test_a_wheel_holds_every_module_and_no_bare_top_level_names(tmp_path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    (wheel,) = tmp_path.glob("ganterp-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    tops = {n.split("/")[0] for n in names}
    assert tops == {"ganterp", next(t for t in tops if t.endswith(".dist-info"))}
    for folder, name in FOLDERS.items():
        prefix = name.replace(".", "/")
        for path in (ROOT / folder).rglob("*"):
            if path.suffix in (".py", ".toml", ".txt", ".ogg") and "__pycache__" not in path.parts:
                rel = path.relative_to(ROOT / folder).as_posix()
                assert f"{prefix}/{rel}" in names, f"{prefix}/{rel} missing from the wheel"
    entry = next(n for n in names if n.endswith("entry_points.txt"))
    assert "ganterp = ganterp.live.cli.main:main" in zipfile.ZipFile(wheel).read(entry).decode()


def test_the_readmes_python_example_runs(tmp_path) -> None:
    readme = (ROOT / "README.md").read_text()
    start = readme.index("```python\n", readme.index("## Architecture")) + len("```python\n")
    code = readme[start : readme.index("```", start)]
    assert "import ganterp" in code or "from ganterp" in code
    proc = subprocess.run(
        [sys.executable, "-c", code.replace('"song.mp3"', repr(str(demo_track())))],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    bpm, *_ = proc.stdout.split()
    assert float(bpm) > 0


def test_the_bare_folder_names_are_not_importable() -> None:
    # Neither for a user nor in these tests (the conftest takes the repository off the path).
    for bare in FOLDERS:
        spec = importlib.util.find_spec(bare)  # tests/models is a namespace of its own
        places = [Path(p) for p in (spec.submodule_search_locations or [])] if spec else []
        assert ROOT / bare not in places, f"'{bare}' is importable from {ROOT / bare}"
