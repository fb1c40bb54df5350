"""`ganterp bench` runs end to end (with short durations) and saves what it printed; its musicality part on one recording."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from audiofiles import write_audio
from rich.console import Console
from signals import sections_with_gaps

from ganterp.live.bench.command import add_bench_arguments
from ganterp.live.bench.music import MAPPINGS, bench_music, load_recording, plot_music
from ganterp.live.bench.report import music_table, summary_rows
from ganterp.live.settings.layers import load_config
from ganterp.models.registry import make_generator

pytestmark = pytest.mark.slow


def test_bench_runs_every_part_and_writes_json(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "ganterp.live",
            "bench",
            "--json",
            str(out),
            "--show-seconds",
            "3",
            "--latency-seconds",
            "6",
            "--sizes",
            "64,128",
            "--render-seconds",
            "4",
            "--render-long-seconds",
            "5",
            "--render-size-seconds",
            "1",
            "--osc-commands",
            "3",
            "--osc-packets",
            "500",
            "--screen-seconds",
            "2",
            "--screen-sizes",
            "640x360",
            "--ndi-seconds",
            "4",
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
    osc = results["osc"]
    assert osc["latency"]["shown"] == 3 and osc["latency"]["latency_ms"]["median"] > 0
    assert osc["flood"]["errors"] == 0 and osc["flood"]["rejected"] > 0
    render = results["render"]
    (cppn,) = render["rows"]
    assert cppn["frames"] == 120 and cppn["realtime_factor"] > 0
    assert cppn["calls_per_audio_s"] == pytest.approx(30 / 8, rel=0.05)
    assert render["long"]["duration_s"] == pytest.approx(5.0) and render["long"]["peak_rss_mb"] > 50
    sizes = [(r["size"], r["preset"], r["frames"]) for r in render["sizes"]]
    assert sizes == [
        ("256x256", "veryfast", 30),
        ("1280x720", "veryfast", 30),
        ("1920x1080", "veryfast", 30),
        ("1920x1080", "ultrafast", 30),
    ]
    assert all(r["realtime_factor"] > 0 for r in render["sizes"])
    rows = results["inflections"]["rows"]
    assert rows[0]["lookahead_s"] == pytest.approx(0.5805)
    screens = results["screens"]["rows"]
    assert [(r["screen"], r["renderer"], r["hud"], r["record"]) for r in screens] == [
        ("640x360", renderer, hud, record)
        for renderer in ("gpu", "cpu")
        for hud, record in ((False, ""), (True, ""), (True, "1920x1080"))
    ]
    assert all(r["display_fps"] > 10 and r["display_cpu_ms_per_frame"] > 0 for r in screens)
    assert "llvmpipe" in screens[0]["drawn_by"] and screens[3]["drawn_by"].startswith("CPU")
    assert all(r["recorded_frames"] > 0 for r in screens if r["record"])
    assert "full screen, 2 s each" in proc.stdout
    ndi = results["ndi"]
    if "skipped" not in ndi:  # needs the ndi extra and a network namespace
        cases = [(r["size"], r["pixel_format"]) for r in ndi["rows"]]
        assert cases == [
            ("1280x720", "none"),
            ("1280x720", "uyvy"),
            ("1280x720", "bgrx"),
            ("1280x720", "bgra"),
            ("1920x1080", "none"),
            ("1920x1080", "uyvy"),
            ("1920x1080", "bgrx"),
        ]
        sending = [r for r in ndi["rows"] if r["pixel_format"] != "none"]
        assert all(r["received"] >= 0.9 * r["sent_while_listening"] > 0 for r in sending)
        assert all(r["latency_ms"]["median"] > 0 and r["fps_ratio"] > 0.5 for r in sending)
        assert "NDI out, 4 s each" in proc.stdout
    # The table on stdout says the same as the file.
    assert f"{show['display_fps']:.1f}" in proc.stdout
    size_rows = [r for r in summary_rows(results) if r[0].startswith("render cppn 256 px into")]
    assert [r[0] for r in size_rows][-1] == "render cppn 256 px into 1920x1080, ultrafast"
    assert "ultrafast" in proc.stdout and size_rows[-1][2].endswith("≥ 1x")


def test_bench_times_biggan_backends_against_plain_eager(tmp_path: Path) -> None:
    from ganterp.models.biggan.synthetic import write_tiny_model

    weights = write_tiny_model(tmp_path / "biggan-deep-128", 128)
    out = tmp_path / "bench.json"
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "ganterp.live",
            "bench",
            "--only",
            "generator,show,render",
            "--render-seconds",
            "3",
            "--render-long-seconds",
            "3",
            "--render-size-seconds",
            "0",
            "--generator",
            "biggan-deep-128",
            "--weights",
            str(weights),
            "--backends",
            "eager",
            "--precisions",
            "fp32,bf16",
            "--batches",
            "1,2",
            "--calls",
            "3",
            "--show-seconds",
            "3",
            "--json",
            str(out),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    results = json.loads(out.read_text())
    (big,) = results["biggan"]
    assert big["weights"] == "trained" and big["resolution"] == 128
    assert big["plain_eager"]["frames_per_s"] > 0
    rows = big["rows"]
    assert [(r["precision"], r["batch"]) for r in rows] == [
        ("fp32", 1),
        ("fp32", 2),
        ("bf16", 1),
        ("bf16", 2),
    ]
    assert rows[0]["psnr_db"] is None and rows[2]["psnr_db"] > 30
    assert all(r["ms_per_frame"]["median"] > 0 and r["first_call_ms"] > 0 for r in rows)
    assert results["show"]["generator"].startswith("biggan-deep-128 eager")
    assert "plain eager" in proc.stdout and "show keyframes/s" in proc.stdout
    (render,) = results["render"]["rows"]
    assert render["generator_name"] == "biggan-deep-128" and render["frames"] == 90
    original = render["original"]
    assert original["frames_per_audio_s"] == pytest.approx(44100 / 128)
    assert render["generator_time_ratio"] == pytest.approx(
        render["generate_s"] / original["generator_s"]
    )
    assert "original's cadence" in proc.stdout
    assert results["render"]["sizes"] == []


def test_bench_inflections_compares_both_detectors(tmp_path: Path) -> None:
    from ganterp.live.bench.analysis import LOOKAHEADS_S

    out = tmp_path / "bench.json"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "ganterp.live",
            "bench",
            "--only",
            "inflections",
            "--json",
            str(out),
        ],
        cwd=tmp_path,
        env={**os.environ, "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    result = json.loads(out.read_text())["inflections"]
    rows = result["rows"]
    # The reference row first: the seed detector at the original's look-ahead.
    assert (rows[0]["detector"], rows[0]["lookahead_s"]) == ("seed", pytest.approx(0.5805))
    expected = [("seed", LOOKAHEADS_S[0])] + [
        (d, la) for la in LOOKAHEADS_S[1:] for d in ("seed", "predictive")
    ]
    assert [(r["detector"], r["lookahead_s"]) for r in rows] == expected
    assert rows[0]["matched"] > 0
    for r in rows:
        assert r["original"] == rows[0]["original"] > 0
        assert 0 <= r["matched"] <= min(r["original"], r["found"])
        assert r["f1"] == pytest.approx(2 * r["matched"] / (r["original"] + r["found"]))
        assert [t["track"] for t in r["per_track"]] == ["demo"]
        same = r["same_curve"]
        assert 0 <= same["matched"] <= min(rows[0]["found"], r["found"])
        assert same["f1"] == pytest.approx(2 * same["matched"] / (rows[0]["found"] + r["found"]))
        if r["detector"] == "predictive" and r["matched"]:
            # Decided exactly the look-ahead after the point the original chose, ±0.25 s.
            assert abs(r["decision_delay_s"]["median"] - r["lookahead_s"]) <= 0.25
    # The reference row agrees with itself on its own curve.
    assert rows[0]["same_curve"]["f1"] == 1.0
    assert "predictive" in proc.stdout and "0.58" in proc.stdout and "same curve" in proc.stdout


def test_bench_music_scores_both_mappings_on_one_recording(tmp_path: Path) -> None:
    sr, fps = 22050, 10.0
    audio, _ = sections_with_gaps(sr, lengths=(3.0, 3.0), gap=1.5)
    path = write_audio(tmp_path / "two.wav", audio[:, None], sr)
    rec = load_recording(path, 0)
    assert rec.sample_rate == sr and rec.duration_s == pytest.approx(7.5, abs=0.01)
    generator = make_generator("cppn", resolution=32, threads=1)
    result = bench_music([rec], load_config(), generator, fps=fps)
    (row,) = result["recordings"]
    n_frames = int(7.5 * fps)
    assert len(row["series"]["flux"]) == n_frames
    for mapping in MAPPINGS:
        scores = row[mapping]
        assert len(row["series"][mapping]) == n_frames
        assert scores["mean_change"] > 1.0  # both pictures move
        assert -1.0 <= scores["follow_rho"] <= 1.0
        assert 0.0 < scores["calm_in_silence"] < 1.0  # the gap is calmer than the music
        assert result["median"][mapping]["follow_rho"] == scores["follow_rho"]
    # The table and the plot show what was measured.
    console = Console(record=True, width=200)
    console.print(music_table(result))
    text = console.export_text()
    assert "two.wav" in text and f"{row['ganterp']['follow_rho']:.2f}" in text
    plot_music(result, tmp_path / "music.png")
    assert (tmp_path / "music.png").stat().st_size > 10_000


def test_music_files_add_up_whether_listed_or_the_flag_repeated() -> None:
    parser = argparse.ArgumentParser()
    add_bench_arguments(parser)
    args = parser.parse_args(["--music", "a.ogg", "b.mp3", "--music", "c.wav"])
    assert args.music == [Path("a.ogg"), Path("b.mp3"), Path("c.wav")]
    assert parser.parse_args([]).music == []
