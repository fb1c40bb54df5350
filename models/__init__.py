"""Generators: the protocol, the embedded CPPN, BigGAN and their acceleration."""

from ganterp.models.base import Generator
from ganterp.models.errors import GeneratorError, UnknownCategoryError

__all__ = ["Generator", "GeneratorError", "UnknownCategoryError"]
