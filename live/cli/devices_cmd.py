"""``ganterp devices``: the audio devices and MIDI inputs this machine offers."""

from __future__ import annotations

import argparse

from ganterp.live.audio.devices import format_device_table, list_devices
from ganterp.live.control.midi import midi_backend
from ganterp.live.core.errors import GanterpError


def cmd_devices(args: argparse.Namespace) -> int:
    """List audio devices."""
    print(format_device_table(list_devices("all" if args.all else "input")))
    try:
        midi = midi_backend()[1]
    except GanterpError as exc:
        print(f"MIDI inputs: none ({exc})")
    else:
        print("MIDI inputs: " + (", ".join(midi) if midi else "none"))
    return 0
