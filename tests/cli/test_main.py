"""The command line: the show's summary, one-line errors with suggestions, the display."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from ganterp_cli import run_ganterp

from ganterp.live.cli.live_cmd import print_report
from ganterp.live.cli.main import build_parser, main
from ganterp.live.show.report import ShowReport
from ganterp.live.video.sink import SinkStatus


def test_the_summary_says_what_happened(capsys: pytest.CaptureFixture[str]) -> None:
    report = ShowReport(
        seconds=12.0, display_fps=59.9, keyframes_per_s=45.5, generate_ms_median=20.1, onsets=7
    )
    print_report(report)
    out = capsys.readouterr().out
    assert "12.0 s, 59.9 fps shown, 45.5 keyframes/s (20.1 ms median), 7 onsets" in out
    assert "dropped" not in out  # nothing to say when no keyframe was dropped
    assert "control-loop errors 0" in out and "analysis errors" not in out
    report.keyframes_cancelled = 3
    report.generator_warnings = ["tensorrt unavailable"]
    print_report(report)
    out = capsys.readouterr().out
    assert "3 keyframes dropped half-painted for a command" in out
    assert "generator: tensorrt unavailable" in out
    report.outputs = [
        SinkStatus("NDI stage", "stopped", sent=180, detail=""),
        SinkStatus("Spout x", "off"),  # never switched on: nothing to say
    ]
    print_report(report)
    out = capsys.readouterr().out
    assert "NDI stage: stopped, 180 sent" in out and "Spout" not in out


def test_output_flags_switch_their_output_on_with_an_optional_name() -> None:
    from ganterp.live.cli.args import overrides_from_args

    args = build_parser().parse_args(["live", "--ndi", "--virtual-camera", "/dev/video7"])
    tree = overrides_from_args(args)
    assert tree["ndi"] == {"enabled": True}
    assert tree["virtual_camera"] == {"enabled": True, "device": "/dev/video7"}
    args = build_parser().parse_args(["live", "--spout", "main stage"])
    assert overrides_from_args(args)["spout"] == {"enabled": True, "name": "main stage"}
    assert "syphon" not in overrides_from_args(args)


def one_line_error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    """Run ``ganterp ARGV`` in this process; return its stderr, which must be one line."""
    with pytest.raises(SystemExit) as done:
        main(argv)
    assert done.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "usage:" not in err, err
    return err


@pytest.mark.parametrize(
    ("argv", "suggestion"),
    [
        (["live", "--windwed"], "did you mean '--windowed'?"),
        (["render", "x.wav", "--chanel", "left"], "did you mean '--channel'?"),
        (["render", "x.wav", "--channel", "lef"], "did you mean 'left'?"),
        (["lvie"], "did you mean 'live'?"),
    ],
)
def test_a_misspelled_flag_or_choice_is_one_line_with_a_suggestion(
    argv: list[str], suggestion: str, capsys: pytest.CaptureFixture[str]
) -> None:
    err = one_line_error(argv, capsys)
    assert err.startswith("ganterp") and suggestion in err


def test_another_commands_flag_is_named_as_such_not_suggested_as_itself(
    capsys: pytest.CaptureFixture[str],
) -> None:
    err = one_line_error(["render", "x.wav", "--seconds", "15"], capsys)
    assert "ganterp render does not take --seconds" in err and "did you mean" not in err
    assert err.rstrip().endswith("(see ganterp render --help)")
    err = one_line_error(["live", "--windwed"], capsys)
    assert "(see ganterp live --help)" in err


def test_a_bad_choice_without_a_close_one_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    err = one_line_error(["render", "x.wav", "--channel", "centre"], capsys)
    assert "invalid choice: 'centre'" in err and "'mix'" in err


def test_a_misspelled_setting_suggests_its_full_name(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "--set", "display.fsp=30"]) == 2
    err = capsys.readouterr().err
    assert "did you mean 'display.fps'?" in err and err.count("\n") == 1


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert re.fullmatch(r"ganterp \S+\n", capsys.readouterr().out)


def test_verbosity_before_a_command_survives_the_original_verbose_flag() -> None:
    args = build_parser().parse_args(["-vv", "render", "x.wav"])
    assert args.verbose == 2 and not args.original_verbose
    args = build_parser().parse_args(["render", "--verbose", "x.wav"])
    assert args.verbose == 0 and args.original_verbose


def test_a_display_that_does_not_answer_is_an_error_not_a_headless_show(tmp_path: Path) -> None:
    number = next(n for n in range(87, 200) if not Path(f"/tmp/.X11-unix/X{n}").exists())
    proc = run_ganterp(
        "live", "--input", "demo", "--seconds", "2", cwd=tmp_path, env={"DISPLAY": f":{number}"}
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stderr == (
        f"ganterp: error: cannot open a window: no display server answers at DISPLAY=:{number}"
        " (use --headless to run without one)\n"
    )
    assert "fps shown" not in proc.stdout and not list(tmp_path.iterdir())


def test_devices_without_a_jack_server_prints_no_jack_noise(tmp_path: Path) -> None:
    proc = run_ganterp("devices", cwd=tmp_path, env={"JACK_DEFAULT_SERVER": "ganterp-absent"})
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""  # libjack's own lines ("Cannot connect to server …") are kept out
    assert "MIDI inputs: none (no MIDI system answers (tried JACK" in proc.stdout
