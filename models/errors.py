"""Errors raised by the generators."""

from __future__ import annotations


class GeneratorError(Exception):
    """A generator cannot be built, loaded or called."""


class UnknownCategoryError(GeneratorError):
    """A category name or index does not exist."""
