"""Whole-file analysis: both detectors, segments and categories, plot and JSON."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pytest
from audiofiles import write_audio
from ganterp_cli import run_ganterp
from signals import sections_with_gaps

from ganterp.live.offline.file_analysis import analyze_signal
from ganterp.live.settings.schema import Config

SR = 22050
KEYS = {
    "duration_s",
    "sample_rate",
    "analysis",
    "inflections_s",
    "beats_s",
    "onsets_s",
    "bpm",
    "segments",
}


@pytest.fixture(scope="module")
def sections() -> tuple[np.ndarray, list[tuple[float, float]]]:
    return sections_with_gaps(SR, lengths=(6.0, 6.0, 6.0))


@pytest.mark.parametrize("analysis", ["seed", "live"])
def test_inflections_fall_in_the_gaps_and_segments_tile_the_file(sections, analysis) -> None:
    audio, gaps = sections
    result = analyze_signal(audio, SR, Config(), analysis=analysis, categories=[1, 207])
    assert result.duration_s == pytest.approx(audio.shape[0] / SR)
    found = result.inflections_s
    assert len(found) == len(gaps), found
    for t, (a, b) in zip(found, gaps, strict=True):
        assert a - 0.3 <= t <= b + 0.8, (t, a, b)
    segs = result.segments
    assert segs[0].start_s == 0.0 and segs[-1].end_s == pytest.approx(result.duration_s)
    assert all(x.end_s == y.start_s for x, y in itertools.pairwise(segs))
    assert [s.category for s in segs] == [1, 207, 1]
    assert segs[0].name == "goldfish"
    data = result.to_json()
    assert set(data) >= KEYS and data["analysis"] == analysis
    assert data["inflections_s"] == found
    assert data["segments"][1] == {
        "start_s": segs[1].start_s,
        "end_s": segs[1].end_s,
        "category": 207,
        "name": segs[1].name,
    }
    json.dumps(data)  # plain JSON types only
    assert result.onsets_s and all(0 <= t < result.duration_s for t in result.onsets_s)


def test_silence_gives_one_segment_and_no_inflections() -> None:
    result = analyze_signal(np.zeros(SR * 5, np.float32), SR, Config())
    assert result.seed_inflections_s == [] and result.live_inflections_s == []
    assert len(result.segments) == 1 and result.bpm == 0.0
    assert result.onsets_s == [] and result.beats_s == []


def test_analyze_command_writes_a_readable_plot_and_json(sections, tmp_path) -> None:
    import matplotlib.image

    audio, gaps = sections
    path = write_audio(tmp_path / "sections.wav", audio, SR)
    proc = run_ganterp(
        "analyze",
        str(path),
        "--plot",
        "a.png",
        "--json",
        "a.json",
        "--analysis",
        "live",
        "--categories",
        "goldfish,980",
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert "seed and" in proc.stdout and "goldfish" in proc.stdout
    data = json.loads((tmp_path / "a.json").read_text())
    assert set(data) >= KEYS and data["analysis"] == "live"
    assert len(data["inflections_s"]) == len(gaps)
    assert [s["name"] for s in data["segments"]] == ["goldfish", "volcano", "goldfish"]
    image = matplotlib.image.imread(tmp_path / "a.png")
    assert image.shape[0] > 500 and image.shape[1] > 1000
    assert image[..., :3].std() > 0.05  # not a blank canvas


def test_analyze_command_bad_input_is_one_line(tmp_path) -> None:
    (tmp_path / "noise.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk")
    proc = run_ganterp("analyze", "noise.wav", cwd=tmp_path)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ganterp: error:") and "noise.wav" in lines[0]
    proc = run_ganterp("analyze", "missing.flac", cwd=tmp_path)
    assert proc.returncode == 2 and "missing.flac" in proc.stderr


@pytest.mark.parametrize("flag", ["--plot", "--json"])
def test_analyze_checks_where_its_outputs_go_before_the_work(
    flag: str, sections, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    import ganterp.live.offline.file_analysis
    from ganterp.live.cli.main import main

    path = write_audio(tmp_path / "sections.wav", sections[0], SR)

    def no_work(*args, **kwargs):
        raise AssertionError("the analysis ran before its output was checked")

    monkeypatch.setattr(ganterp.live.offline.file_analysis, "analyze_file", no_work)
    assert main(["analyze", str(path), flag, str(tmp_path / "nodir" / "out.x")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and flag in err and "nodir" in err and "does not exist" in err
    assert main(["analyze", str(path), flag, str(tmp_path)]) == 2  # a folder, not a file
    assert "is a folder" in capsys.readouterr().err
