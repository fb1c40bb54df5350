"""``ganterp.sh``: run from any folder, paths keep the caller's meaning."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from audiofiles import write_audio
from signals import sections_with_gaps

SCRIPT = Path(__file__).resolve().parent.parent / "ganterp.sh"
SR = 44100


def test_relative_paths_mean_the_callers_folder(tmp_path: Path) -> None:
    venv = Path(sys.prefix)
    if not any((venv / f".ganterp-{kind}").is_file() for kind in ("test", "run")):
        pytest.skip("these tests do not run in the environment ganterp.sh set up")
    audio, _ = sections_with_gaps(SR, lengths=(1.0, 1.0), gap=0.4)
    write_audio(tmp_path / "song.wav", audio[:, None], SR)
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    proc = subprocess.run(
        ["bash", str(SCRIPT), "analyze", "song.wav", "--json", "out/a.json"],
        cwd=tmp_path,
        env={**env, "GANTERP_VENV": str(venv)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 2 and "the folder out does not exist" in proc.stderr
    (tmp_path / "out").mkdir()
    proc = subprocess.run(
        ["bash", str(SCRIPT), "analyze", "song.wav", "--json", "out/a.json"],
        cwd=tmp_path,
        env={**env, "GANTERP_VENV": str(venv)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads((tmp_path / "out" / "a.json").read_text())["duration_s"] > 2.0
