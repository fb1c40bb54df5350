"""``ganterp live``: the show, and the summary printed when it ends."""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

from ganterp.live.cli.args import add_picture_arguments, csv_ints, load_from_args
from ganterp.live.core.clock import MonotonicClock
from ganterp.live.show.build import build_show, default_recording_path, display_available
from ganterp.live.show.report import ShowReport


def add_live_arguments(p: argparse.ArgumentParser) -> None:
    """The show's flags; each one sets the setting named in its help."""
    a = p.add_argument_group("audio input")
    a.add_argument("--input", help="'mic', 'jack', 'demo' or an audio file [audio.input]")
    a.add_argument(
        "--device",
        help="input device: index or name substring; for jack, a source-port pattern [audio.device]",
    )
    a.add_argument(
        "--channels", type=csv_ints, help="input channels from 1, e.g. 1,2 [audio.channels]"
    )
    a.add_argument("--samplerate", type=int, help="sample rate in Hz [audio.sample_rate]")
    a.add_argument("--blocksize", type=int, help="frames per audio block [audio.blocksize]")
    a.add_argument(
        "--loop", action="store_true", default=None, help="loop a file input [audio.loop]"
    )
    a.add_argument(
        "--monitor",
        nargs="?",
        const="default",
        help="also play a file input to this output device (default device if none given) [audio.monitor]",
    )
    add_picture_arguments(p)
    d = p.add_argument_group("display and recording")
    d.add_argument(
        "--windowed", action="store_true", default=None, help="open a window, not full screen"
    )
    d.add_argument(
        "--fullscreen",
        action="store_true",
        default=None,
        help="open full screen [display.fullscreen]",
    )
    d.add_argument("--display", type=int, help="monitor index [display.display]")
    d.add_argument("--size", help="window size WIDTHxHEIGHT [display.size]")
    d.add_argument("--fps", type=float, help="display frame rate [display.fps]")
    d.add_argument(
        "--hud", action="store_true", default=None, help="show the HUD at start [display.hud]"
    )
    d.add_argument(
        "--headless",
        action="store_true",
        default=None,
        help="no window; record instead [display.headless]",
    )
    d.add_argument("--record", type=Path, help="record the show to this MP4 [record.path]")
    d.add_argument(
        "--visual-delay",
        type=float,
        metavar="MS",
        help="show the picture this much later [display.visual_delay_ms]",
    )
    v = p.add_argument_group("video out")
    v.add_argument(
        "--ndi",
        nargs="?",
        const="",
        metavar="NAME",
        help="publish the picture as an NDI source, named NAME (default 'ganterp')"
        " [ndi.enabled, ndi.name]",
    )
    v.add_argument(
        "--syphon",
        nargs="?",
        const="",
        metavar="NAME",
        help="publish a Syphon server (macOS) [syphon.enabled, syphon.name]",
    )
    v.add_argument(
        "--spout",
        nargs="?",
        const="",
        metavar="NAME",
        help="publish a Spout sender (Windows) [spout.enabled, spout.name]",
    )
    v.add_argument(
        "--virtual-camera",
        nargs="?",
        const="",
        metavar="DEVICE",
        help="send the picture to a virtual camera [virtual_camera.enabled, virtual_camera.device]",
    )
    o = p.add_argument_group("remote control")
    o.add_argument("--osc-port", type=int, help="OSC input port, 0 for none [control.osc_port]")
    o.add_argument("--osc-host", help="address OSC input binds to [control.osc_host]")
    o.add_argument(
        "--osc-allow",
        type=lambda text: [a.strip() for a in text.split(",") if a.strip()],
        help="sender addresses accepted, comma-separated [control.osc_allow]",
    )
    o.add_argument("--osc-out", help="send events to HOST:PORT [control.osc_out]")
    o.add_argument("--midi", metavar="PORT", help="MIDI input, by part of its name [control.midi]")
    o.add_argument(
        "--midi-clock",
        metavar="PORT",
        help="take tempo and beats from this MIDI input's clock [control.midi_clock]",
    )
    o.add_argument("--midi-map", type=Path, help="MIDI mapping file [control.midi_map]")
    d.add_argument("--seconds", type=float, help="end the show after this long [show.seconds]")


def cmd_live(args: argparse.Namespace) -> int:
    """Run the show and print what happened."""
    config = load_from_args(args)
    if not config.display.headless and not display_available():
        print("ganterp: no display found; running headless (the show is recorded to a file)")
        config = replace(config, display=replace(config.display, headless=True))
    record_path: Path | None = Path(config.record.path).expanduser() if config.record.path else None
    if record_path is None and config.display.headless:
        record_path = default_recording_path()
    clock = MonotonicClock()
    start_preset = Path(args.preset).stem if args.preset else ""
    show = build_show(config, clock=clock, record_path=record_path, start_preset=start_preset)
    if record_path is not None:
        print(f"ganterp: recording the show to {record_path}")
    generator = show.generator.status
    print(
        f"ganterp: {show.source.label} -> {generator} {show.generator.resolution}px"
        f" -> {show.display.label}; keys: H HUD, Space next, Esc quit"
    )
    try:
        report = show.run()
    except KeyboardInterrupt:  # the show's finally-block has closed everything
        report = show.report
    print_report(report)
    return 0 if not report.record_error else 1


def print_report(report: ShowReport) -> None:
    """Print a show's summary."""
    r = report
    print(
        f"ganterp: {r.seconds:.1f} s, {r.display_fps:.1f} fps shown, "
        f"{r.keyframes_per_s:.1f} keyframes/s ({r.generate_ms_median:.1f} ms median), "
        f"{r.onsets} onsets, {r.beats} beats, {r.inflections} inflections"
    )
    if r.keyframes_cancelled:
        print(f"ganterp: {r.keyframes_cancelled} keyframes dropped half-painted for a command")
    print(
        f"ganterp: audio overflows {r.overflows}, analysis drops {r.ring_dropped} frames, "
        f"generator errors {r.generator_errors}, control-loop errors {r.control_errors}"
    )
    for warning in r.generator_warnings:
        print(f"ganterp: generator: {warning}")
    if r.recording is not None:
        rec = r.recording
        print(
            f"ganterp: recorded {rec.video_s:.1f} s of video and {rec.audio_s:.1f} s of audio "
            f"to {rec.path} ({rec.frames} frames, {rec.dropped} dropped, {rec.repeated} repeated)"
        )
    for output in r.outputs:
        if output.name != "recording" and (output.sent or output.errors):
            print(f"ganterp: {output.line()}")
    if r.record_error:
        print(f"ganterp: error: {r.record_error}", file=sys.stderr)
