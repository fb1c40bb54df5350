from __future__ import annotations

import pytest

from ganterp.models.classes import (
    NUM_CLASSES,
    load_class_names,
    parse_categories,
    short_name,
    synonyms,
)
from ganterp.models.errors import GeneratorError, UnknownCategoryError


def test_load_class_names_reads_1000_stripped_lines():
    names = load_class_names()
    assert isinstance(names, tuple)
    assert len(names) == NUM_CLASSES == 1000
    assert names[0] == "tench, Tinca tinca"
    assert names[1] == "goldfish, Carassius auratus"
    assert short_name(names[3]) == "tiger shark"
    assert all(name == name.strip() and name for name in names)


def test_short_name_and_synonyms():
    assert short_name("goldfish, Carassius auratus") == "goldfish"
    assert short_name("  hammerhead ") == "hammerhead"
    assert synonyms("a, b ,c") == ["a", "b", "c"]


def test_parse_indices_and_names_keeps_order_and_repeats():
    assert parse_categories("419,goldfish,tiger shark") == [419, 1, 3]
    assert parse_categories([3, "GOLDFISH", "1"]) == [3, 1, 1]
    assert parse_categories(7) == [7]


def test_names_match_any_synonym_case_insensitively():
    assert parse_categories("Carassius auratus") == [1]
    assert parse_categories("  Great  White Shark ") == [2]
    assert parse_categories("man-eater") == [2]


def test_parse_with_custom_names():
    names = ["red, scarlet", "blue", "green"]
    assert parse_categories("Scarlet, 2", names) == [0, 2]
    with pytest.raises(UnknownCategoryError, match=r"allowed 0\.\.2"):
        parse_categories("3", names)


def test_unknown_name_suggests_close_names_on_one_line():
    with pytest.raises(UnknownCategoryError) as info:
        parse_categories("goldfsh")
    message = str(info.value)
    assert message.startswith("unknown category 'goldfsh'; did you mean 'goldfish'")
    assert "\n" not in message


def test_unknown_name_without_close_match():
    with pytest.raises(UnknownCategoryError, match="unknown category 'xyzzyq'"):
        parse_categories("xyzzyq")


@pytest.mark.parametrize("spec", ["1000", "-1", [1000]])
def test_index_out_of_range(spec):
    with pytest.raises(UnknownCategoryError, match=r"out of range; allowed 0\.\.999"):
        parse_categories(spec)


@pytest.mark.parametrize("spec", ["", " , ", []])
def test_empty_spec_is_an_error(spec):
    with pytest.raises(UnknownCategoryError, match="no categories"):
        parse_categories(spec)


def test_errors_are_generator_errors():
    assert issubclass(UnknownCategoryError, GeneratorError)
    with pytest.raises(UnknownCategoryError):
        parse_categories([1.5])  # type: ignore[list-item]
