"""`ganterp bench` runs end to end (with short durations) and saves what it printed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def test_bench_runs_every_part_and_writes_json(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "live",
            "bench",
            "--json",
            str(out),
            "--show-seconds",
            "3",
            "--latency-seconds",
            "6",
            "--sizes",
            "64,128",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    results = json.loads(out.read_text())
    assert results["analysis"]["show_block"]["realtime_factor"] > 1
    assert [g["resolution"] for g in results["generator"]] == [64, 128]
    assert all(g["frames_per_s"] > 0 for g in results["generator"])
    show = results["show"]
    assert show["display_fps"] > 30 and show["keyframes_per_s"] > 5
    assert show["audio_overflows"] == 0 and show["peak_rss_mb"] > 0
    assert results["display_capacity"]["frames_per_s"] > 0
    latency = results["latency"]
    assert latency["detected"] >= latency["clicks"] - 1
    assert 0 < latency["latency_ms"]["median"] < 1000
    rows = results["inflections"]["rows"]
    assert rows[0]["lookahead_s"] == pytest.approx(0.5805)
    # The table on stdout says the same as the file.
    assert f"{show['display_fps']:.1f}" in proc.stdout
