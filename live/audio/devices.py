"""Finding audio devices through PortAudio (``sounddevice``).

``sounddevice`` is imported on first use, so code that only decodes files does
not need the PortAudio library. Every failure a user can cause (no PortAudio, no
devices, no match, an ambiguous name) is a one-line
:class:`~ganterp.live.core.errors.AudioInputError` that lists what is available.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Literal

from ganterp.live.core.errors import AudioInputError, one_line

DeviceKind = Literal["input", "output", "all"]

# How many names an error message lists before it says "and N more".
_MAX_LISTED = 12


@dataclass(frozen=True)
class DeviceInfo:
    """One PortAudio device.

    Attributes
    ----------
    index : int
        PortAudio device index (valid until PortAudio is re-initialised).
    name : str
        Device name as PortAudio reports it.
    hostapi : str
        Host API name, e.g. ``"ALSA"``, ``"JACK Audio Connection Kit"``.
    max_input_channels : int
        Input channels (0 for an output-only device).
    max_output_channels : int
        Output channels (0 for an input-only device).
    default_samplerate : float
        The device's default sample rate in Hz.
    """

    index: int
    name: str
    hostapi: str
    max_input_channels: int
    max_output_channels: int
    default_samplerate: float

    @property
    def is_jack(self) -> bool:
        """Whether the device belongs to the JACK host API."""
        return "JACK" in self.hostapi

    def channels(self, kind: DeviceKind) -> int:
        """Return the device's channel count for ``kind`` (input, output, or the larger)."""
        if kind == "input":
            return self.max_input_channels
        if kind == "output":
            return self.max_output_channels
        return max(self.max_input_channels, self.max_output_channels)


def portaudio() -> ModuleType:
    """Return the ``sounddevice`` module, importing it on first use.

    Raises
    ------
    AudioInputError
        When the PortAudio library (or ``sounddevice``) cannot be loaded.
    """
    try:
        import sounddevice
    except (ImportError, OSError) as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise AudioInputError(
            f"cannot use audio devices: the PortAudio library could not be loaded ({reason}); "
            "install it, e.g. 'apt install libportaudio2'"
        ) from None
    return sounddevice


def _check_kind(kind: str) -> None:
    if kind not in ("input", "output", "all"):
        raise ValueError(f"kind must be 'input', 'output' or 'all', not {kind!r}")


def _device_from_dict(d: dict[str, Any], hostapis: Sequence[dict[str, Any]]) -> DeviceInfo:
    ha = d.get("hostapi", -1)
    hostapi = hostapis[ha]["name"] if 0 <= ha < len(hostapis) else "?"
    return DeviceInfo(
        index=int(d["index"]),
        name=str(d["name"]),
        hostapi=str(hostapi),
        max_input_channels=int(d["max_input_channels"]),
        max_output_channels=int(d["max_output_channels"]),
        default_samplerate=float(d["default_samplerate"]),
    )


def list_devices(kind: DeviceKind = "all") -> list[DeviceInfo]:
    """List the devices PortAudio sees.

    Parameters
    ----------
    kind : {"input", "output", "all"}
        Keep only devices with input channels, output channels, or all.

    Returns
    -------
    list of DeviceInfo
        In PortAudio index order; may be empty.

    Raises
    ------
    AudioInputError
        When PortAudio cannot be loaded or queried.
    """
    _check_kind(kind)
    sd = portaudio()
    try:
        hostapis = list(sd.query_hostapis())
        devices = [_device_from_dict(dict(d), hostapis) for d in sd.query_devices()]
    except sd.PortAudioError as exc:
        raise AudioInputError(f"cannot list audio devices ({one_line(exc)})") from None
    return [d for d in devices if kind == "all" or d.channels(kind) > 0]


def shortlist(items: Sequence[str], sep: str, more: str = "") -> str:
    """Join names for a one-line error: at most 12, then how many more.

    Parameters
    ----------
    items : sequence of str
        The names, in the order to show them.
    sep : str
        What goes between two names.
    more : str
        Added after "and N more" when some were left out (e.g. where to see them).

    Returns
    -------
    str
        ``"none"`` for no names.
    """
    if not items:
        return "none"
    shown = list(items)
    if len(shown) > _MAX_LISTED:
        shown = [*shown[:_MAX_LISTED], f"and {len(shown) - _MAX_LISTED} more{more}"]
    return sep.join(shown)


def _names(devices: Iterable[DeviceInfo]) -> str:
    items = [f"[{d.index}] {d.name} ({d.hostapi})" for d in devices]
    return shortlist(items, "; ", " (see 'ganterp devices')")


def _default_index(kind: DeviceKind) -> int:
    sd = portaudio()
    default = sd.default.device
    try:
        pair = list(default)
    except TypeError:
        pair = [default, default]
    idx = pair[1] if kind == "output" else pair[0]
    try:
        return int(idx) if idx is not None else -1
    except (TypeError, ValueError):
        return -1


def resolve_device(spec: str | int | DeviceInfo | None, kind: DeviceKind = "input") -> DeviceInfo:
    """Find the device a user means.

    Parameters
    ----------
    spec : str, int, DeviceInfo or None
        None: the default device of ``kind``. An int or a string of digits: a
        PortAudio index. Any other string: a case-insensitive substring of the
        device name (an exact name wins over substrings; ``"name (host api)"`` as
        shown by ``ganterp devices`` also matches). A :class:`DeviceInfo` is
        re-resolved by name and host API (indices change when PortAudio rescans).
    kind : {"input", "output", "all"}
        The direction the device must support.

    Returns
    -------
    DeviceInfo

    Raises
    ------
    AudioInputError
        One line: no PortAudio, no devices, no match (listing the available
        names), an ambiguous name (listing the matches), or a device without
        channels of ``kind``.
    """
    _check_kind(kind)
    devices = list_devices("all")
    usable = [d for d in devices if kind == "all" or d.channels(kind) > 0]
    what = "audio" if kind == "all" else f"audio {kind}"
    if not usable:
        raise AudioInputError(
            f"no {what} devices found (PortAudio sees {len(devices)} device(s) in all; "
            "is a sound card connected, or the JACK/PulseAudio server running?)"
        )

    if isinstance(spec, DeviceInfo):
        same = [d for d in usable if d.name == spec.name and d.hostapi == spec.hostapi]
        if not same:
            raise AudioInputError(
                f"{what} device '{spec.name}' ({spec.hostapi}) is not available; "
                f"available: {_names(usable)}"
            )
        return same[0]

    if spec is None:
        idx = _default_index(kind)
        chosen = next((d for d in usable if d.index == idx), None)
        if chosen is None:
            raise AudioInputError(
                f"there is no default {what} device; choose one of: {_names(usable)}"
            )
        return chosen

    if isinstance(spec, bool):
        raise AudioInputError(f"invalid {what} device {spec!r}; give a name or an index")

    if isinstance(spec, int) or (isinstance(spec, str) and spec.strip().isdigit()):
        idx = int(spec)
        chosen = next((d for d in devices if d.index == idx), None)
        if chosen is None:
            raise AudioInputError(
                f"no audio device with index {idx}; available {kind} devices: {_names(usable)}"
            )
        if kind != "all" and chosen.channels(kind) == 0:
            raise AudioInputError(
                f"audio device {idx} '{chosen.name}' has no {kind} channels; "
                f"available {kind} devices: {_names(usable)}"
            )
        return chosen

    if not isinstance(spec, str):
        raise AudioInputError(f"invalid {what} device {spec!r}; give a name or an index")
    query = spec.strip().lower()
    if not query:
        raise AudioInputError(f"empty {what} device name; choose one of: {_names(usable)}")
    exact = [d for d in usable if d.name.lower() == query]
    if len(exact) == 1:
        return exact[0]
    matches = exact or [
        d for d in usable if query in d.name.lower() or query in f"{d.name} ({d.hostapi})".lower()
    ]
    if not matches:
        raise AudioInputError(f"no {what} device matches '{spec}'; available: {_names(usable)}")
    if len(matches) > 1:
        raise AudioInputError(
            f"'{spec}' matches {len(matches)} {what} devices: {_names(matches)}; "
            "give more of the name or the index"
        )
    return matches[0]


def format_device_table(
    devices: Sequence[DeviceInfo],
    *,
    default_input: int | None = None,
    default_output: int | None = None,
) -> str:
    """Format devices as a text table (for ``ganterp devices``).

    Parameters
    ----------
    devices : sequence of DeviceInfo
        Devices to show, in order.
    default_input, default_output : int, optional
        Indices of the default devices, marked ``>`` (input) and ``<`` (output).

    Returns
    -------
    str
        A header line and one line per device (no trailing newline); a single
        explanatory line when ``devices`` is empty.
    """
    if not devices:
        return "no audio devices found"
    header = ("", "index", "name", "host API", "in", "out", "default rate")
    rows = []
    for d in devices:
        mark = ">" if d.index == default_input else " "
        mark += "<" if d.index == default_output else " "
        rows.append(
            (
                mark,
                str(d.index),
                d.name,
                d.hostapi,
                str(d.max_input_channels),
                str(d.max_output_channels),
                f"{d.default_samplerate:g} Hz",
            )
        )
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    right = {1, 4, 5, 6}

    def fmt(row: Sequence[str]) -> str:
        cells = [
            cell.rjust(widths[i]) if i in right else cell.ljust(widths[i])
            for i, cell in enumerate(row)
        ]
        return "  ".join(cells).rstrip()

    return "\n".join([fmt(header), *(fmt(r) for r in rows)])
