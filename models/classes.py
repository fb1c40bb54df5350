"""ImageNet class names: loading them and reading category specifications.

The 1000 names live in ``models/data/imagenet_classes.txt``, one class a line in
class-index order (line ``N + 1`` holds class ``N``). A line lists comma-separated
synonyms; the first is the short name shown in the HUD, e.g. ``"goldfish"`` for
``"goldfish, Carassius auratus"``.
"""

from __future__ import annotations

import difflib
import functools
import importlib.resources
from collections.abc import Sequence
from pathlib import Path

from ganterp.models.errors import UnknownCategoryError

NUM_CLASSES = 1000
"""Number of ImageNet classes, and length of a class vector."""

_DATA_FILE = "data/imagenet_classes.txt"


@functools.lru_cache(maxsize=1)
def load_class_names() -> tuple[str, ...]:
    """Read the 1000 ImageNet class names.

    Returns
    -------
    tuple of str, length 1000
        The full line of every class (all its synonyms, comma-separated),
        stripped, in class-index order.

    Raises
    ------
    UnknownCategoryError
        If the data file does not hold exactly 1000 non-empty lines.
    """
    try:
        text = (importlib.resources.files("ganterp.models") / _DATA_FILE).read_text(
            encoding="utf-8"
        )
    except (ModuleNotFoundError, FileNotFoundError, NotADirectoryError):
        text = (Path(__file__).parent / _DATA_FILE).read_text(encoding="utf-8")
    names = tuple(line.strip() for line in text.splitlines() if line.strip())
    if len(names) != NUM_CLASSES:
        raise UnknownCategoryError(
            f"{_DATA_FILE} holds {len(names)} class names; expected {NUM_CLASSES}"
        )
    return names


def synonyms(full: str) -> list[str]:
    """Split a full class name into its synonyms.

    Parameters
    ----------
    full : str
        A line of the class file, e.g. ``"goldfish, Carassius auratus"``.

    Returns
    -------
    list of str
        The synonyms, stripped, in file order, e.g. ``["goldfish", "Carassius auratus"]``.
    """
    return [part.strip() for part in full.split(",") if part.strip()]


def short_name(full: str) -> str:
    """Return the first synonym of a full class name.

    Parameters
    ----------
    full : str
        A line of the class file, e.g. ``"goldfish, Carassius auratus"``.

    Returns
    -------
    str
        The first synonym, e.g. ``"goldfish"``; the stripped input when it has no comma.
    """
    parts = synonyms(full)
    return parts[0] if parts else full.strip()


def parse_categories(
    spec: str | int | Sequence[str | int], names: Sequence[str] | None = None
) -> list[int]:
    """Turn a category specification into class indices.

    Parameters
    ----------
    spec : str, int or sequence of str and int
        Comma-separated indices and names, e.g. ``"419,goldfish,tiger shark"``, or a
        sequence of them, e.g. ``[419, "goldfish"]``. A name matches any synonym of a
        class, case-insensitively; an exact synonym match wins over a class whose
        full line equals the name. Order and repeats are kept.
    names : sequence of str, optional
        The full class names in class-index order; the ImageNet names by default.

    Returns
    -------
    list of int
        One class index in ``0 .. len(names) - 1`` for each item of ``spec``.

    Raises
    ------
    UnknownCategoryError
        If ``spec`` is empty, a name matches no class (the message suggests the
        closest names), or an index is out of range.
    """
    if names is None:
        names = load_class_names()
    items = _split_spec(spec)
    if not items:
        raise UnknownCategoryError("no categories given; expected indices or names")
    lookup = _synonym_index(tuple(names))
    return [_resolve(item, names, lookup) for item in items]


def _split_spec(spec: str | int | Sequence[str | int]) -> list[str | int]:
    """Flatten a specification into single items, splitting strings at commas."""
    raw: Sequence[str | int] = [spec] if isinstance(spec, (str, int)) else spec
    items: list[str | int] = []
    for entry in raw:
        if isinstance(entry, bool):
            raise UnknownCategoryError(f"invalid category {entry!r}; expected an index or a name")
        if isinstance(entry, int):
            items.append(entry)
        elif isinstance(entry, str):
            items.extend(part.strip() for part in entry.split(",") if part.strip())
        else:
            raise UnknownCategoryError(
                f"invalid category {entry!r} of type {type(entry).__name__}; "
                "expected an index or a name"
            )
    return items


@functools.lru_cache(maxsize=4)
def _synonym_index(names: tuple[str, ...]) -> dict[str, int]:
    """Map every lower-cased synonym and full line to its first class index."""
    lookup: dict[str, int] = {}
    for index, full in enumerate(names):
        for synonym in synonyms(full):
            lookup.setdefault(synonym.lower(), index)
    for index, full in enumerate(names):
        lookup.setdefault(full.strip().lower(), index)
    return lookup


def _resolve(item: str | int, names: Sequence[str], lookup: dict[str, int]) -> int:
    """Resolve one index or name to a class index."""
    count = len(names)
    if isinstance(item, str) and _is_integer(item):
        item = int(item)
    if isinstance(item, int):
        if not 0 <= item < count:
            raise UnknownCategoryError(
                f"category index {item} out of range; allowed 0..{count - 1}"
            )
        return item
    key = " ".join(item.split()).lower()
    if key in lookup:
        return lookup[key]
    suggestions = difflib.get_close_matches(key, list(lookup), n=6, cutoff=0.6)
    shown = list(dict.fromkeys(_original_spelling(s, names[lookup[s]]) for s in suggestions))[:3]
    if shown:
        options = " or ".join(f"'{name}'" for name in shown)
        raise UnknownCategoryError(f"unknown category '{item}'; did you mean {options}?")
    raise UnknownCategoryError(
        f"unknown category '{item}'; give an index 0..{count - 1} or an ImageNet class name"
    )


def _original_spelling(key: str, full: str) -> str:
    """Return the synonym of ``full`` whose lower case is ``key``, else ``full``."""
    for synonym in synonyms(full):
        if synonym.lower() == key:
            return synonym
    return full.strip()


def _is_integer(text: str) -> bool:
    """Whether a string spells an integer, e.g. ``"419"`` or ``"-3"``."""
    stripped = text.strip()
    return stripped.lstrip("+-").isdigit() and stripped.count("-") + stripped.count("+") <= 1
