"""The show's summary lines."""

from __future__ import annotations

import pytest

from live.cli import print_report
from live.engine.show import ShowReport


def test_the_summary_says_what_happened(capsys: pytest.CaptureFixture[str]) -> None:
    report = ShowReport(
        seconds=12.0, display_fps=59.9, keyframes_per_s=45.5, generate_ms_median=20.1, onsets=7
    )
    print_report(report)
    out = capsys.readouterr().out
    assert "12.0 s, 59.9 fps shown, 45.5 keyframes/s (20.1 ms median), 7 onsets" in out
    assert "dropped" not in out  # nothing to say when no keyframe was dropped
    report.keyframes_cancelled = 3
    report.generator_warnings = ["tensorrt unavailable"]
    print_report(report)
    out = capsys.readouterr().out
    assert "3 keyframes dropped half-painted for a command" in out
    assert "generator: tensorrt unavailable" in out
