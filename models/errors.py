"""Errors raised by the generators."""

from __future__ import annotations


class GeneratorError(Exception):
    """A generator cannot be built, loaded or called."""


class UnknownCategoryError(GeneratorError):
    """A category name or index does not exist."""


class WeightsError(GeneratorError):
    """A model directory, its configuration or its weights cannot be used."""


class WeightsMissingError(WeightsError):
    """A model's weights are not on this machine (the message says how to get them)."""
