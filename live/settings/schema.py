"""Declarative, validated, frozen settings.

Every setting is declared once, here, with its default, unit, allowed range and
description. ``configs/default.toml`` is generated from these declarations (a
test checks that it is), files and command-line flags are validated against
them, and the result is a tree of frozen dataclasses that the rest of the
program receives as arguments.
"""

from __future__ import annotations

import dataclasses
import difflib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ganterp.live.core.errors import ConfigError


def setting(
    default: Any,
    doc: str,
    *,
    unit: str = "",
    min: float | None = None,
    max: float | None = None,
    choices: tuple[str, ...] | None = None,
    live: bool = True,
) -> Any:
    """Declare one setting.

    Parameters
    ----------
    default : Any
        Default value (tuples for lists).
    doc : str
        One-sentence description, shown in ``default.toml``.
    unit : str
        Unit of the value, e.g. ``"s"`` or ``"dB"``.
    min, max : float, optional
        Inclusive bounds for numbers (and for every item of a list of numbers).
    choices : tuple of str, optional
        The allowed values of a string setting.
    live : bool
        Whether a preset may change it while the show runs.
    """
    meta = {"doc": doc, "unit": unit, "min": min, "max": max, "choices": choices, "live": live}
    return field(default=default, metadata=meta)


#: libx264's speed presets, fastest first: a faster one makes a larger file of the
#: same quality (``crf``).
X264_PRESETS = (
    "ultrafast",
    "superfast",
    "veryfast",
    "faster",
    "fast",
    "medium",
    "slow",
    "slower",
    "veryslow",
)
#: The preset renders use unless told otherwise.
X264_DEFAULT = "veryfast"


# ----------------------------------------------------------------------------------------
# Sections
# ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AudioSettings:
    """Where the sound comes from."""

    input: str = setting(
        "mic",
        "Audio input: 'mic' (a sound card), 'jack' (a JACK client of its own that reconnects"
        " by itself after a JACK server restart; audio.device is then the pattern of the JACK"
        " output ports to take, empty for the physical capture ports), 'demo' (the bundled"
        " track) or a file path (WAV, FLAC, OGG, MP3) played in real time as if it were line-in.",
        live=False,
    )
    device: str = setting(
        "",
        "Input device for 'mic': an index or a name substring; empty for the system default.",
        live=False,
    )
    channels: tuple[int, ...] = setting(
        (),
        "Input channels to use, numbered from 1; empty takes the first two (or one) and mixes"
        " them for the analysis.",
        min=1,
        max=64,
        live=False,
    )
    sample_rate: int = setting(
        0,
        "Sample rate for 'mic', or the rate a file is resampled to; 0 keeps the device's"
        " default or the file's own rate.",
        unit="Hz",
        min=0,
        max=384000,
        live=False,
    )
    blocksize: int = setting(
        256,
        "Frames per block delivered by the sound card or the file player.",
        unit="frames",
        min=32,
        max=8192,
        live=False,
    )
    loop: bool = setting(False, "Loop a file input forever.", live=False)
    monitor: str = setting(
        "",
        "Play a file input to this output device too (index or name substring; 'default' for"
        " the system default); empty for silence.",
        live=False,
    )
    ring_seconds: float = setting(
        4.0,
        "Audio held between the sound card and the analysis.",
        unit="s",
        min=0.5,
        max=60.0,
        live=False,
    )
    reopen_interval_s: float = setting(
        1.0,
        "How often a lost input device is tried again.",
        unit="s",
        min=0.1,
        max=60.0,
        live=False,
    )


@dataclass(frozen=True)
class AnalysisSettings:
    """Per-hop audio features (aubio)."""

    hop: int = setting(
        256,
        "Samples between two analysis frames, at the analysis rate of 44.1 kHz whatever the"
        " input's (256: 5.8 ms); onsets are found at this rate, tempo at half of it, pitch at"
        " a quarter.",
        unit="samples",
        min=64,
        max=4096,
        live=False,
    )
    window: int = setting(
        512,
        "Onset detection window (samples at 44.1 kHz); tempo, pitch and band levels use twice"
        " this.",
        unit="samples",
        min=128,
        max=8192,
        live=False,
    )
    hops_per_wake: int = setting(
        4,
        "Hops the analysis thread takes in each time it wakes (4 hops: every 23 ms): fewer is"
        " lower latency, more costs less CPU.",
        min=1,
        max=64,
        live=False,
    )
    onset_method: str = setting(
        "hfc",
        "aubio onset detection function.",
        choices=("hfc", "energy", "complex", "phase", "specdiff", "kl", "mkl", "specflux"),
        live=False,
    )
    onset_threshold: float = setting(
        0.3, "aubio onset peak-picking threshold; lower finds more onsets.", min=0.01, max=2.0
    )
    silence_db: float = setting(
        -70.0,
        "Below this level no onset or beat is reported.",
        unit="dBFS",
        min=-120.0,
        max=0.0,
    )
    min_onset_interval_s: float = setting(
        0.05, "Shortest time between two onsets.", unit="s", min=0.0, max=2.0
    )
    low_band_hz: float = setting(
        250.0, "Upper edge of the low band.", unit="Hz", min=20.0, max=2000.0, live=False
    )
    high_band_hz: float = setting(
        4000.0, "Lower edge of the high band.", unit="Hz", min=500.0, max=20000.0, live=False
    )
    level_floor_db: float = setting(
        -60.0,
        "Level shown as zero on the meters and in the motion.",
        unit="dBFS",
        min=-120.0,
        max=-10.0,
    )


@dataclass(frozen=True)
class InflectionSettings:
    """The online spectral-inflection detector (the original algorithm, made causal)."""

    nfft: int = setting(
        256,
        "FFT length of the spectral-change spectrogram (the original's).",
        unit="samples",
        min=64,
        max=4096,
        live=False,
    )
    spectral_hop: int = setting(
        128,
        "Hop of the spectral-change spectrogram (the original's); windows below are in seconds"
        " so this does not change behaviour.",
        unit="samples",
        min=16,
        max=2048,
        live=False,
    )
    smoothing_s: float = setting(
        0.74304,
        "Trailing moving average of the spectral change (the original's 256 columns at 44.1 kHz).",
        unit="s",
        min=0.01,
        max=10.0,
        live=False,
    )
    detector: str = setting(
        "seed",
        "How a candidate is decided: 'seed' compares it with the mean of the lookahead_s after"
        " it (the original's decisions when lookahead_s equals lookback_s); 'predictive' sees"
        " lookahead_s of the window after it (0.3 s suits it) and predicts the mean of the"
        " whole window, as long as lookback_s, from that part's rise, so it decides sooner"
        " with the same test.",
        choices=("seed", "predictive"),
    )
    lookback_s: float = setting(
        0.58050,
        "Window before a candidate whose mean it is compared with (the original's 200 columns).",
        unit="s",
        min=0.01,
        max=10.0,
    )
    lookahead_s: float = setting(
        0.58050,
        "Window after a candidate seen before it is decided: the detector's latency. For"
        " 'seed' equal to lookback_s it makes the original's decisions; 'predictive' makes"
        " them from lookback_s on and predicts the rest of the window below it.",
        unit="s",
        min=0.01,
        max=10.0,
    )
    min_spacing_s: float = setting(
        0.58050,
        "After an extremum the scan skips this long (the original's 200 columns).",
        unit="s",
        min=0.01,
        max=60.0,
    )
    threshold: float = setting(
        0.01,
        "A candidate must differ from both means by more than this (normalised change units)."
        " 0.01 is the original's README example; its command-line default was 0.035, which"
        " finds far fewer inflections in music with short breaks.",
        min=0.0,
        max=1.0,
    )
    absolute_threshold: float = setting(
        0.08,
        "In 'min' mode a candidate must be at most this low (normalised change units).",
        min=0.0,
        max=1.0,
    )
    mode: str = setting(
        "min",
        "Which extrema count: calm low points ('min', the original's), peaks ('max') or both.",
        choices=("min", "max", "both"),
    )
    normaliser_halflife_s: float = setting(
        120.0,
        "Half-life of the running maximum that replaces the original's global maximum.",
        unit="s",
        min=1.0,
        max=3600.0,
        live=False,
    )


@dataclass(frozen=True)
class TrajectorySettings:
    """How the music moves through the generator's inputs."""

    categories: tuple[int | str, ...] = setting(
        (),
        "Categories, one per segment between inflections, then cycling: ImageNet indices or"
        " names. Empty draws them from a seeded bank.",
        live=False,
    )
    bank_size: int = setting(
        12,
        "Categories drawn from the seed when 'categories' is empty.",
        min=1,
        max=1000,
        live=False,
    )
    seed: int = setting(
        0, "Seed of every random choice (z, bank).", min=0, max=2**31 - 1, live=False
    )
    z_policy: str = setting(
        "constant",
        "'constant': one z for the whole show (the original's code); 'per-inflection': a new z"
        " at each inflection, morphed like the class (the original's paper).",
        choices=("constant", "per-inflection"),
    )
    truncation: float = setting(
        0.4, "Truncation: smaller is calmer and more typical.", min=0.02, max=1.0
    )
    class_policy: str = setting(
        "segments",
        "'segments': one category per segment between inflections (the original's);"
        " 'chroma': the 12 pitch classes weight 12 categories, rotated by one at each inflection.",
        choices=("segments", "chroma"),
    )
    chroma_smoothing_s: float = setting(
        0.5,
        "How long the pitch-class weights take to follow the harmony ('chroma' policy).",
        unit="s",
        min=0.02,
        max=10.0,
    )
    morph_s: float = setting(
        8.0,
        "Time a category change takes when the music moves z at its average speed; busier"
        " music is faster, calm music slower.",
        unit="s",
        min=0.05,
        max=120.0,
    )
    min_morph_speed: float = setting(
        0.25,
        "Slowest morph while there is sound, as a fraction of the average speed, so a change"
        " always completes.",
        min=0.0,
        max=1.0,
    )
    inflection_step: str = setting(
        "burst",
        "What an inflection does at once: 'glide' (the morph only), 'cut' (straight to the next"
        " category) or 'burst' (a jump of speed that settles: most of the morph in step_s).",
        choices=("glide", "cut", "burst"),
    )
    step_amount: float = setting(
        0.3,
        "Part of the morph a burst makes at once (the rest follows at the morph's speed).",
        min=0.0,
        max=1.0,
    )
    step_s: float = setting(0.3, "Time a burst takes to settle.", unit="s", min=0.02, max=10.0)
    burst_speed: float = setting(
        1.0,
        "Extra speed of z at a burst or cut, in units of motion_speed, settling over step_s.",
        min=0.0,
        max=20.0,
    )
    max_segment_s: float = setting(
        20.0,
        "Longest time on one category without an inflection before the next one comes anyway"
        " (0: wait for an inflection).",
        unit="s",
        min=0.0,
        max=3600.0,
    )
    motion_speed: float = setting(
        3.0,
        "Speed of z when the music is as busy and loud as its running average, in z's"
        " spreads per second.",
        unit="1/s",
        min=0.0,
        max=10.0,
    )
    level_weight: float = setting(
        0.0,
        "How much the level sets the speed, against the spectral flux (0: flux only, 1: level"
        " only).",
        min=0.0,
        max=1.0,
    )
    contrast: float = setting(
        1.5,
        "How much faster busy, loud passages move than calm ones: the speed multiplies by"
        " e**contrast for each spread the spectral flux rises over its running average (log"
        " scale); 0 moves at one speed.",
        min=0.0,
        max=3.0,
    )
    drift: float = setting(
        0.15,
        "Speed that never stops while there is sound, as a fraction of motion_speed (added to"
        " the music's own).",
        min=0.0,
        max=4.0,
    )
    silence_speed: float = setting(
        0.2,
        "Speed in silence, as a fraction of the speed the sound before it moved (its"
        " average over about 10 s): calm, never frozen.",
        min=0.0,
        max=4.0,
    )
    onset_pulse: float = setting(
        1.0, "Kick of speed at an onset, as a multiple of the music's own speed.", min=0.0, max=20.0
    )
    beat_pulse: float = setting(
        2.0, "Kick of speed at a beat, as a multiple of the music's own speed.", min=0.0, max=20.0
    )
    pulse_decay_s: float = setting(
        0.1, "Time for a kick to fall to a third.", unit="s", min=0.01, max=5.0
    )
    breathe: float = setting(
        0.1,
        "How far the level pushes z along one direction (units of z's spread).",
        min=0.0,
        max=4.0,
    )


@dataclass(frozen=True)
class GeneratorSettings:
    """What paints the pictures."""

    name: str = setting(
        "cppn",
        "Generator: 'cppn' (embedded, no download) or 'biggan-deep-128', '-256', '-512'"
        " (weights from generator.weights or `ganterp models fetch NAME`).",
        choices=("cppn", "biggan-deep-128", "biggan-deep-256", "biggan-deep-512"),
        live=False,
    )
    resolution: int = setting(
        256,
        "Image size of cppn (square); a BigGAN model has its own.",
        unit="px",
        min=32,
        max=1024,
        live=False,
    )
    weights: str = setting(
        "",
        "BigGAN model directory (config.json + pytorch_model.bin or model.safetensors);"
        " empty uses the user cache, filled by `ganterp models fetch`.",
        live=False,
    )
    device: str = setting(
        "auto", "Where BigGAN runs: 'auto' (CUDA when present), 'cpu' or 'cuda'.", live=False
    )
    backend: str = setting(
        "auto",
        "BigGAN engine: 'auto' (CUDA: TensorRT, else torch.compile with CUDA graphs; CPU: the"
        " fastest accurate path, timed at start), 'eager', 'compile' or 'tensorrt'.",
        choices=("auto", "eager", "compile", "tensorrt"),
        live=False,
    )
    precision: str = setting(
        "auto",
        "BigGAN precision: 'auto' (CUDA fp16, CPU bf16 or fp32, whichever is faster), 'fp32',"
        " 'fp16' or 'bf16'; reduced precision is checked against fp32 at start.",
        choices=("auto", "fp32", "fp16", "bf16"),
        live=False,
    )
    batch: int = setting(
        1, "Batch size compiled BigGAN engines are built for.", min=1, max=64, live=False
    )
    fallback: bool = setting(
        True,
        "When the generator keeps failing (out of GPU memory, say), switch to a smaller batch,"
        " then a smaller model, then cppn, instead of holding the last frame.",
        live=False,
    )
    threads: int = setting(
        1,
        "CPU threads for the generator; the other cores run audio and display.",
        min=1,
        max=256,
        live=False,
    )
    seed: int = setting(0, "Seed of the generator's weights.", min=0, max=2**31 - 1, live=False)


@dataclass(frozen=True)
class DisplaySettings:
    """The window."""

    fullscreen: bool = setting(True, "Open full screen; False opens a window.", live=False)
    display: int = setting(0, "Which monitor to use.", min=0, max=16, live=False)
    size: str = setting(
        "1280x720",
        "Window size WIDTHxHEIGHT; in full screen the monitor's own size is used.",
        unit="px",
        live=False,
    )
    fps: float = setting(
        60.0, "Display frame rate.", unit="frames/s", min=1.0, max=360.0, live=False
    )
    hud: bool = setting(False, "Show the heads-up display at start (toggle with H).", live=False)
    renderer: str = setting(
        "auto",
        "How frames are drawn: 'gpu' through OpenGL (scaling, cross-fade and colour on the"
        " graphics card), 'cpu' with pygame's software blits, 'auto' the GPU when an OpenGL 3.3"
        " context can be made, else the CPU with a warning.",
        choices=("auto", "gpu", "cpu"),
        live=False,
    )
    headless: bool = setting(
        False, "Run without a window (records the show to a file).", live=False
    )
    crossfade: bool = setting(
        True, "Cross-fade between keyframes so motion stays smooth when the generator is slow."
    )
    blackout_s: float = setting(
        1.0, "Time a fade to black (and back) takes.", unit="s", min=0.05, max=30.0
    )
    brightness: float = setting(
        0.0, "Added light: -1 is black, 1 is white, 0 leaves the picture alone.", min=-1.0, max=1.0
    )
    contrast: float = setting(
        1.0, "Gain around mid-grey: 0 is flat grey, 1 leaves the picture alone.", min=0.0, max=4.0
    )
    hue_shift_deg: float = setting(
        0.0, "Turn every hue by this much.", unit="degrees", min=-180.0, max=180.0
    )
    visual_delay_ms: float = setting(
        0.0,
        "Show the picture this much later, to meet sound that reaches the audience late.",
        unit="ms",
        min=0.0,
        max=2000.0,
    )


@dataclass(frozen=True)
class RecordSettings:
    """Recording the show."""

    path: str = setting(
        "",
        "Record to this MP4 (H.264 + AAC); empty records only when headless, to a new file in"
        " the current directory.",
        live=False,
    )
    fps: float = setting(30.0, "Video frame rate.", unit="frames/s", min=1.0, max=120.0, live=False)
    size: int = setting(
        512,
        "Height and width of the recorded picture.",
        unit="px",
        min=32,
        max=4096,
        live=False,
    )
    video_size: str = setting(
        "",
        "Video frame WIDTHxHEIGHT (e.g. 1920x1080), the square picture centred in it as large"
        " as it fits, with black bars; empty: a square of record.size.",
        unit="px",
        live=False,
    )
    crf: int = setting(20, "H.264 quality: lower is better and larger.", min=0, max=51, live=False)
    preset: str = setting(
        "auto",
        "H.264 encoding speed: a faster preset makes a larger file of the same quality; 'auto'"
        " is veryfast up to 1280x720 and ultrafast above, what a 2-core machine keeps up with.",
        choices=("auto", *X264_PRESETS),
        live=False,
    )
    queue_frames: int = setting(
        64,
        "Frames waiting for the encoder before the oldest is dropped.",
        unit="frames",
        min=2,
        max=4096,
        live=False,
    )


@dataclass(frozen=True)
class NdiSettings:
    """NDI video out (the ``ndi`` extra): the program picture as a source on the network."""

    enabled: bool = setting(
        False, "Publish the program as an NDI source (--ndi); switchable during the show."
    )
    name: str = setting("ganterp", "The source's name as receivers list it.", live=False)
    fps: float = setting(
        0.0,
        "Frames sent per second at most; 0 sends every frame the display shows.",
        unit="frames/s",
        min=0.0,
        max=120.0,
        live=False,
    )
    size: str = setting(
        "",
        "Frame WIDTHxHEIGHT, the square picture centred in it with black bars; empty: the"
        " display's size.",
        unit="px",
        live=False,
    )
    pixel_format: str = setting(
        "uyvy",
        "Pixel format sent: 'uyvy' (4:2:2, what NDI compresses natively: the least CPU), 'bgrx'"
        " or 'bgra' (full-colour RGB, more CPU).",
        choices=("uyvy", "bgrx", "bgra"),
        live=False,
    )
    audio: bool = setting(False, "Send the show's sound with the picture.", live=False)
    groups: str = setting(
        "", "NDI groups the source is in, comma-separated; empty: the public group.", live=False
    )


@dataclass(frozen=True)
class SyphonSettings:
    """Syphon out (macOS, the ``syphon`` extra): the program as a shared texture."""

    enabled: bool = setting(
        False, "Publish a Syphon server (--syphon); switchable during the show."
    )
    name: str = setting("ganterp", "The server's name as Syphon clients list it.", live=False)
    size: str = setting(
        "",
        "Texture WIDTHxHEIGHT (black bars around the square); empty: the display's size.",
        unit="px",
        live=False,
    )


@dataclass(frozen=True)
class SpoutSettings:
    """Spout out (Windows, the ``spout`` extra): the program as a shared texture."""

    enabled: bool = setting(False, "Publish a Spout sender (--spout); switchable during the show.")
    name: str = setting("ganterp", "The sender's name as Spout receivers list it.", live=False)
    size: str = setting(
        "",
        "Frame WIDTHxHEIGHT (black bars around the square); empty: the display's size.",
        unit="px",
        live=False,
    )


@dataclass(frozen=True)
class VirtualCameraSettings:
    """A virtual camera (the ``camera`` extra): v4l2loopback on Linux, OBS's elsewhere."""

    enabled: bool = setting(
        False,
        "Send the program to a virtual camera (--virtual-camera); switchable during the show.",
    )
    device: str = setting(
        "", "The camera device, e.g. /dev/video10; empty: the first one found.", live=False
    )
    size: str = setting(
        "1280x720", "Frame WIDTHxHEIGHT (black bars around the square).", unit="px", live=False
    )
    fps: float = setting(
        30.0, "The camera's frame rate.", unit="frames/s", min=1.0, max=120.0, live=False
    )


@dataclass(frozen=True)
class ShowSettings:
    """The show as a whole."""

    seconds: float = setting(
        0.0,
        "End the show after this long; 0 runs until quit or until a file input ends.",
        unit="s",
        min=0.0,
        max=1e7,
        live=False,
    )
    presets: tuple[str, ...] = setting(
        ("ambient", "club", "speech"), "Presets recalled by the keys 1 to 9, in order.", live=False
    )
    preset_fade_s: float = setting(
        2.0,
        "Time a preset change glides over (numbers move in a straight line); 0 cuts.",
        unit="s",
        min=0.0,
        max=60.0,
    )
    watch_presets: bool = setting(
        True, "Apply the active preset again when its file is edited and saved.", live=False
    )
    log_interval_s: float = setting(
        5.0,
        "How often the same warning may be logged again.",
        unit="s",
        min=0.1,
        max=600.0,
        live=False,
    )


@dataclass(frozen=True)
class ControlSettings:
    """Remote control: OSC in and out, MIDI."""

    osc_port: int = setting(
        9000,
        "UDP port OSC commands are read on; 0 turns OSC input off.",
        min=0,
        max=65535,
        live=False,
    )
    osc_host: str = setting(
        "127.0.0.1",
        "Address OSC input binds to; 127.0.0.1 accepts only this machine, 0.0.0.0 any.",
        live=False,
    )
    osc_allow: tuple[str, ...] = setting(
        (),
        "When bound beyond loopback, the only sender addresses accepted (empty: any).",
        live=False,
    )
    osc_out: str = setting(
        "", "HOST:PORT that events, levels and the category are sent to; empty: none.", live=False
    )
    osc_level_hz: float = setting(
        20.0, "How often /ganterp/level is sent.", unit="Hz", min=0.5, max=200.0, live=False
    )
    midi: str = setting("", "MIDI input to read, by a part of its name; empty: none.", live=False)
    midi_map: str = setting(
        "",
        "MIDI mapping file (CC and notes to settings and actions; learn mode writes it);"
        " empty: midi.toml in the user's config directory.",
        live=False,
    )
    midi_clock: str = setting(
        "",
        "MIDI input whose clock (24 pulses a beat, start/stop/song position) sets the tempo"
        " and the beats, by a part of its name; empty: none.",
        live=False,
    )
    midi_api: str = setting(
        "auto",
        "MIDI system: 'auto' (ALSA where its sequencer exists, else JACK), 'alsa' or 'jack'.",
        choices=("auto", "alsa", "jack"),
        live=False,
    )


@dataclass(frozen=True)
class Config:
    """Every setting of the program."""

    audio: AudioSettings = field(default_factory=AudioSettings)
    analysis: AnalysisSettings = field(default_factory=AnalysisSettings)
    inflection: InflectionSettings = field(default_factory=InflectionSettings)
    trajectory: TrajectorySettings = field(default_factory=TrajectorySettings)
    generator: GeneratorSettings = field(default_factory=GeneratorSettings)
    display: DisplaySettings = field(default_factory=DisplaySettings)
    record: RecordSettings = field(default_factory=RecordSettings)
    ndi: NdiSettings = field(default_factory=NdiSettings)
    syphon: SyphonSettings = field(default_factory=SyphonSettings)
    spout: SpoutSettings = field(default_factory=SpoutSettings)
    virtual_camera: VirtualCameraSettings = field(default_factory=VirtualCameraSettings)
    show: ShowSettings = field(default_factory=ShowSettings)
    control: ControlSettings = field(default_factory=ControlSettings)


SECTIONS: dict[str, type] = typing.get_type_hints(Config)


# ----------------------------------------------------------------------------------------
# Validation
# ----------------------------------------------------------------------------------------


class SettingError(ValueError):
    """A value does not fit its declaration (turned into a ConfigError by the loader)."""


def number_text(value: float) -> str:
    """Write a bound exactly: integers in full (2147483647), other numbers compactly."""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _describe(f: dataclasses.Field[Any], kind: Any) -> str:
    m = f.metadata
    parts = []
    if m.get("choices"):
        parts.append("one of " + ", ".join(repr(c) for c in m["choices"]))
    elif kind is bool:
        parts.append("true or false")
    else:
        noun = {int: "an integer", float: "a number", str: "a string"}.get(kind, "a list")
        if m.get("min") is not None and m.get("max") is not None:
            noun += f" from {number_text(m['min'])} to {number_text(m['max'])}"
        elif m.get("min") is not None:
            noun += f" of at least {number_text(m['min'])}"
        parts.append(noun)
    if m.get("unit"):
        parts.append(f"({m['unit']})")
    return " ".join(parts)


def _check_number(value: Any, f: dataclasses.Field[Any], kind: type) -> float | int:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SettingError(f"expected {_describe(f, kind)}")
    if kind is int and not float(value).is_integer():
        raise SettingError(f"expected {_describe(f, kind)}")
    if value != value or value in (float("inf"), float("-inf")):
        raise SettingError(f"expected {_describe(f, kind)}")
    lo, hi = f.metadata.get("min"), f.metadata.get("max")
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise SettingError(f"out of range: allowed {_describe(f, kind)}")
    return int(value) if kind is int else float(value)


def coerce(value: Any, f: dataclasses.Field[Any], hint: Any) -> Any:
    """Check ``value`` against a field's declaration and return it in the field's type.

    Raises
    ------
    SettingError
        With a message saying what is allowed.
    """
    origin = typing.get_origin(hint)
    if hint is bool:
        if not isinstance(value, bool):
            raise SettingError("expected true or false")
        return value
    if hint in (int, float):
        return _check_number(value, f, hint)
    if hint is str:
        if not isinstance(value, str):
            raise SettingError(f"expected {_describe(f, str)}")
        choices = f.metadata.get("choices")
        if choices and value not in choices:
            raise SettingError(f"expected one of {', '.join(repr(c) for c in choices)}")
        return value
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            raise SettingError("expected a list")
        (item,) = {a for a in typing.get_args(hint) if a is not Ellipsis}
        item_types = (
            typing.get_args(item)
            if typing.get_origin(item) in (typing.Union, types.UnionType)
            else (item,)
        )
        out: list[int | str | float] = []
        for v in value:
            if int in item_types and isinstance(v, int) and not isinstance(v, bool):
                out.append(_check_number(v, f, int) if str not in item_types else int(v))
            elif str in item_types and isinstance(v, str):
                out.append(v)
            else:
                names = " or ".join(t.__name__ for t in item_types)
                raise SettingError(f"expected a list of {names}")
        return tuple(out)
    raise SettingError(f"unsupported setting type {hint!r}")  # pragma: no cover


def section_fields(section: type) -> dict[str, tuple[dataclasses.Field[Any], Any]]:
    """Map each key of a section to its field and resolved type hint."""
    hints = typing.get_type_hints(section)
    return {f.name: (f, hints[f.name]) for f in dataclasses.fields(section)}


def did_you_mean(word: str, options: list[str]) -> str:
    """Return ``"; did you mean 'x'?"`` for the closest option, or an empty string."""
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


def build(tree: Mapping[str, Any], origin: str = "settings") -> Config:
    """Validate a nested mapping of settings and freeze it into a :class:`Config`.

    Parameters
    ----------
    tree : Mapping
        ``{section: {key: value}}``; missing keys take their defaults.
    origin : str
        Where the values came from, named in error messages.

    Raises
    ------
    live.core.errors.ConfigError
        On an unknown section or key, or a value that does not fit.
    """
    sections = {}
    for name, values in tree.items():
        if name not in SECTIONS:
            raise ConfigError(
                f"unknown section [{name}] in {origin}{did_you_mean(name, list(SECTIONS))}"
            )
        if not isinstance(values, Mapping):
            raise ConfigError(f"[{name}] in {origin} must be a table of settings")
    for name, cls in SECTIONS.items():
        values = tree.get(name, {})
        fields = section_fields(cls)
        kwargs = {}
        for key, value in values.items():
            if key not in fields:
                every = [f"{n}.{k}" for n, c in SECTIONS.items() for k in section_fields(c)]
                hint = did_you_mean(f"{name}.{key}", every)
                raise ConfigError(f"unknown setting '{name}.{key}' in {origin}{hint}")
            f, typ = fields[key]
            try:
                kwargs[key] = coerce(value, f, typ)
            except SettingError as exc:
                raise ConfigError(f"{name}.{key} = {value!r} in {origin}: {exc}") from None
        sections[name] = cls(**kwargs)
    return Config(**sections)


def to_tree(config: Config) -> dict[str, dict[str, Any]]:
    """Return the settings as ``{section: {key: value}}`` (tuples become lists)."""
    out: dict[str, dict[str, Any]] = {}
    for name in SECTIONS:
        section = getattr(config, name)
        out[name] = {
            f.name: list(v) if isinstance(v := getattr(section, f.name), tuple) else v
            for f in dataclasses.fields(section)
        }
    return out
