"""The OSC address space: every address, its arguments, what it does.

One table, :func:`osc_addresses`, is the single source: the server dispatches
with it, the README's table is generated from it, and a test sends every
address's example and checks its effect. Every live setting has an address
``/ganterp/set/<section>/<key>`` typed and bounded like the setting itself.

Arguments are checked here, before anything is queued: a wrong type, a wrong
count or an out-of-range value raises :class:`OscArgError` and changes nothing.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ganterp.live.core.commands import (
    Blackout,
    Command,
    Freeze,
    JumpToCategory,
    LoadPreset,
    LoadPresetSlot,
    MidiLearn,
    NextCategory,
    PreviousCategory,
    ReleaseTempo,
    ReseedZ,
    SavePreset,
    SetCategories,
    SetSetting,
    ShowHud,
    TapTempo,
)
from ganterp.live.settings.schema import SECTIONS, Config, SettingError, coerce, section_fields
from ganterp.models.classes import parse_categories
from ganterp.models.errors import GeneratorError

PREFIX = "/ganterp"
STATUS = f"{PREFIX}/status"


class OscArgError(ValueError):
    """The arguments of a message do not fit its address."""


@dataclass(frozen=True)
class OscAddress:
    """One address of the space.

    Attributes
    ----------
    path : str
        E.g. ``/ganterp/category/jump``.
    args : str
        The arguments, for people: ``"i|s"`` is one integer or one string.
    meaning : str
        What it does.
    example : tuple
        Arguments that are valid and change something (docs and tests).
    parse : callable
        Arguments → Command; raises OscArgError.
    """

    path: str
    args: str
    meaning: str
    example: tuple[Any, ...]
    parse: Callable[[tuple[Any, ...]], Command]


def _arity(args: tuple[Any, ...], n: int) -> None:
    if len(args) != n:
        raise OscArgError(f"expected {n} argument(s), got {len(args)}")


def _none(make: Callable[[], Command]) -> Callable[[tuple[Any, ...]], Command]:
    def parse(args: tuple[Any, ...]) -> Command:
        _arity(args, 0)
        return make()

    return parse


def as_bool(value: Any) -> bool:
    """OSC true/false: T/F, or the integers 0 and 1."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise OscArgError(f"expected 0, 1, T or F, got {value!r}")


def _switch(make: Callable[[bool], Command]) -> Callable[[tuple[Any, ...]], Command]:
    def parse(args: tuple[Any, ...]) -> Command:
        _arity(args, 1)
        return make(as_bool(args[0]))

    return parse


def _class_index(value: Any, class_names: Sequence[str]) -> int:

    if isinstance(value, bool) or not isinstance(value, int | str):
        raise OscArgError(f"expected a class index or name, got {value!r}")
    try:
        return parse_categories([value], class_names)[0]
    except GeneratorError as exc:
        raise OscArgError(str(exc)) from None


def _jump(class_names: Sequence[str]) -> Callable[[tuple[Any, ...]], Command]:
    def parse(args: tuple[Any, ...]) -> Command:
        _arity(args, 1)
        return JumpToCategory(_class_index(args[0], class_names))

    return parse


def _category_list(class_names: Sequence[str]) -> Callable[[tuple[Any, ...]], Command]:
    def parse(args: tuple[Any, ...]) -> Command:
        if not args:
            raise OscArgError("expected at least one class index or name")
        return SetCategories(tuple(_class_index(a, class_names) for a in args))

    return parse


def _preset(args: tuple[Any, ...]) -> Command:
    _arity(args, 1)
    value = args[0]
    if isinstance(value, str) and value:
        return LoadPreset(value)
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 9:
        return LoadPresetSlot(value)
    raise OscArgError(f"expected a preset name or a slot 1-9, got {value!r}")


def _learn(args: tuple[Any, ...]) -> Command:
    _arity(args, 1)
    if not isinstance(args[0], str) or not args[0]:
        raise OscArgError(f"expected SECTION.KEY or an action name, got {args[0]!r}")
    return MidiLearn(args[0])


def _save(args: tuple[Any, ...]) -> Command:
    _arity(args, 1)
    name = args[0]
    if not isinstance(name, str) or not name or not all(c.isalnum() or c in "-_" for c in name):
        raise OscArgError(f"expected a preset name of letters, digits, '-' and '_', got {name!r}")
    return SavePreset(name)


def _setting(section: str, key: str, f: dataclasses.Field[Any], hint: Any):
    def parse(args: tuple[Any, ...]) -> Command:
        if typing.get_origin(hint) is tuple:
            value: Any = list(args)
        else:
            _arity(args, 1)
            value = as_bool(args[0]) if hint is bool else args[0]
        try:
            return SetSetting(section, key, coerce(value, f, hint))
        except SettingError as exc:
            raise OscArgError(str(exc)) from None

    return parse


def _type_text(f: dataclasses.Field[Any], hint: Any) -> str:
    if hint is bool:
        return "T|F|i (0/1)"
    if hint is float:
        return f"f ({f.metadata.get('min'):g} to {f.metadata.get('max'):g})"
    if hint is int:
        return f"i ({f.metadata.get('min')} to {f.metadata.get('max')})"
    if hint is str:
        choices = f.metadata.get("choices")
        return "s (" + ", ".join(choices) + ")" if choices else "s"
    return "i|s …"


def _example(f: dataclasses.Field[Any], hint: Any, default: Any) -> tuple[Any, ...]:
    if hint is bool:
        return (not default,)
    if hint in (int, float):
        lo, hi = f.metadata.get("min"), f.metadata.get("max")
        value = (default + hi) / 2 if hi is not None else default * 2 + 1
        if lo is not None and hi is not None and value == default:
            value = (lo + default) / 2
        return (round(value) if hint is int else float(value),)
    if hint is str:
        choices = f.metadata.get("choices") or ()
        return (next((c for c in choices if c != default), default + "x"),)
    return ("goldfish", 980)


def osc_addresses(class_names: Sequence[str]) -> list[OscAddress]:
    """Every address, actions first, then one per live setting.

    Parameters
    ----------
    class_names : sequence of str
        The generator's class names, for categories given by name.
    """
    table = [
        OscAddress(
            f"{PREFIX}/category/next", "", "morph to the next category now", (), _none(NextCategory)
        ),
        OscAddress(
            f"{PREFIX}/category/previous",
            "",
            "morph back to the previous category",
            (),
            _none(PreviousCategory),
        ),
        OscAddress(
            f"{PREFIX}/category/jump",
            "i|s",
            "morph to a class, by index or name",
            ("goldfish",),
            _jump(class_names),
        ),
        OscAddress(
            f"{PREFIX}/category/list",
            "i|s …",
            "replace the category list (used from the next inflection)",
            (207, "volcano"),
            _category_list(class_names),
        ),
        OscAddress(f"{PREFIX}/z/reseed", "", "morph to a new latent vector", (), _none(ReseedZ)),
        OscAddress(
            f"{PREFIX}/freeze",
            "T|F|i",
            "hold the picture (1) or let it move (0)",
            (1,),
            _switch(Freeze),
        ),
        OscAddress(
            f"{PREFIX}/blackout", "T|F|i", "fade to black (1) or back (0)", (1,), _switch(Blackout)
        ),
        OscAddress(
            f"{PREFIX}/hud",
            "T|F|i",
            "show (1) or hide (0) the heads-up display",
            (1,),
            _switch(ShowHud),
        ),
        OscAddress(
            f"{PREFIX}/preset/load",
            "s|i",
            "recall a preset by name, or slot 1-9",
            ("club",),
            _preset,
        ),
        OscAddress(
            f"{PREFIX}/preset/save",
            "s",
            "keep the live settings as a preset (in the user's presets)",
            ("mine",),
            _save,
        ),
        OscAddress(
            f"{PREFIX}/midi/learn",
            "s",
            "bind the next MIDI control moved to a setting (SECTION.KEY) or an action",
            ("trajectory.truncation",),
            _learn,
        ),
        OscAddress(
            f"{PREFIX}/tempo/tap",
            "",
            "tap the beat; from the second tap it replaces the tracker's",
            (),
            _none(TapTempo),
        ),
        OscAddress(
            f"{PREFIX}/tempo/release",
            "",
            "give the beat back to the tracker",
            (),
            _none(ReleaseTempo),
        ),
    ]

    defaults = Config()
    for section, cls in SECTIONS.items():
        for key, (f, hint) in section_fields(cls).items():
            if not f.metadata.get("live", True):
                continue
            default = getattr(getattr(defaults, section), key)
            table.append(
                OscAddress(
                    f"{PREFIX}/set/{section}/{key}",
                    _type_text(f, hint),
                    str(f.metadata.get("doc", "")),
                    _example(f, hint, default),
                    _setting(section, key, f, hint),
                )
            )
    return table


def markdown_table(class_names: Sequence[str]) -> str:
    """The address space as a Markdown table (the README's)."""
    rows = ["| address | arguments | meaning |", "|---|---|---|"]
    rows.append(f"| `{STATUS}` | | reply to the sender with `{STATUS}` and the show's state |")
    for a in osc_addresses(class_names):
        meaning = a.meaning.replace("|", "\\|")
        rows.append(f"| `{a.path}` | {a.args.replace('|', ' or ')} | {meaning} |")
    return "\n".join(rows) + "\n"
