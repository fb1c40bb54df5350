"""Commands: one small immutable type per action.

Keys, OSC, MIDI and presets all produce these; the show applies them in one
place, on its control thread, between two analysis hops.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class NextCategory:
    """Start the morph to the next category now, as an inflection would."""


@dataclass(frozen=True)
class PreviousCategory:
    """Morph back to the previous category."""


@dataclass(frozen=True)
class JumpToCategory:
    """Morph to a given class index (it becomes the current segment's category)."""

    index: int


@dataclass(frozen=True)
class SetCategories:
    """Replace the category list (class indices); the next inflection uses it."""

    indices: tuple[int, ...]


@dataclass(frozen=True)
class ReseedZ:
    """Morph to a new latent vector."""


@dataclass(frozen=True)
class Freeze:
    """Hold the picture still (``on``) or let it move again."""

    on: bool


@dataclass(frozen=True)
class Blackout:
    """Fade the picture to black (``on``) or back."""

    on: bool


@dataclass(frozen=True)
class SavePreset:
    """Keep the show's live settings as preset ``name`` (in the user's presets)."""

    name: str


@dataclass(frozen=True)
class LoadPreset:
    """Recall a preset by name (``reload``: read its file again, it was edited)."""

    name: str
    reload: bool = False


@dataclass(frozen=True)
class LoadPresetSlot:
    """Recall the preset in slot ``slot`` (1-9) of ``show.presets``."""

    slot: int


@dataclass(frozen=True)
class SetSetting:
    """Change one live setting, e.g. ``("trajectory", "truncation", 0.6)``."""

    section: str
    key: str
    value: object


@dataclass(frozen=True)
class ShowHud:
    """Show or hide the heads-up display."""

    on: bool


@dataclass(frozen=True)
class TapTempo:
    """A tap of the beat (``at``: show-clock time, filled in when it is queued)."""

    at: float = -1.0


@dataclass(frozen=True)
class ReleaseTempo:
    """Give the beat back to the tracker."""


@dataclass(frozen=True)
class MidiLearn:
    """Bind the next MIDI control moved to ``target`` (SECTION.KEY or an action name)."""

    target: str


Command = (
    NextCategory
    | PreviousCategory
    | JumpToCategory
    | SetCategories
    | ReseedZ
    | Freeze
    | Blackout
    | LoadPreset
    | LoadPresetSlot
    | SetSetting
    | ShowHud
    | TapTempo
    | ReleaseTempo
    | SavePreset
    | MidiLearn
)


#: Trajectory settings that change the generator's inputs at once (the others,
#: such as speeds, kicks and policies, act from the next hop or inflection on).
IMMEDIATE_TRAJECTORY_SETTINGS = frozenset({"truncation", "breathe"})


def repaints(command: Command) -> bool:
    """Whether ``command`` changes the generator's inputs at once.

    A keyframe painted without such a command is stale: the operator is waiting
    to see it. A category change or a new z starts a morph, so its first
    keyframe is where the change begins. Display-side commands (blackout, HUD,
    brightness and other post effects), analysis settings, trajectory speeds,
    tempo, a new category list (it waits for the next inflection), freezing,
    saving and MIDI learn do not repaint.
    """
    if isinstance(command, SetSetting):
        return command.section == "trajectory" and command.key in IMMEDIATE_TRAJECTORY_SETTINGS
    return isinstance(
        command,
        NextCategory | PreviousCategory | JumpToCategory | ReseedZ | LoadPreset | LoadPresetSlot,
    )
